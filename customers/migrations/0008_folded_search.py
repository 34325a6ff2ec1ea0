"""Customer search whatever the case and accents: folded columns on SQLite, a trigram index of the folded columns on
PostgreSQL (see customers/search_index.py and backoffice/db/folding.py)."""

from django.db import migrations

from customers import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_fold_function"),
        ("customers", "0007_edited_by"),
    ]

    operations = [
        migrations.RunPython(search_index.install, search_index.install_unfolded),
    ]
