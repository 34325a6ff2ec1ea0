"""Catalog search whatever the case and accents: folded columns on SQLite, a trigram index of the folded columns on
PostgreSQL (see catalogs/search_index.py and backoffice/db/folding.py)."""

from django.db import migrations

from catalogs import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_fold_function"),
        ("catalogs", "0003_edited_by"),
    ]

    operations = [
        migrations.RunPython(search_index.install, search_index.uninstall),
    ]
