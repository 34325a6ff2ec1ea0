"""Contact search whatever the case and accents: folded columns on SQLite, a trigram index of the folded columns on
PostgreSQL (see contacts/search_index.py and backoffice/db/folding.py)."""

from django.db import migrations

from contacts import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_fold_function"),
        ("contacts", "0006_target_ids_not_dots_only"),
    ]

    operations = [
        migrations.RunPython(search_index.install, search_index.uninstall),
    ]
