"""The trigram search index of customers (SQLite only): see customers/search_index.py."""

from django.db import migrations

from customers import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_list_indexes"),
    ]

    operations = [
        # Not `install`: that folds the searched columns, which needs backoffice's 0003 on PostgreSQL (see 0008).
        migrations.RunPython(search_index.install_unfolded, search_index.uninstall),
    ]
