"""The trigram search index of customers (SQLite only): see customers/search_index.py."""

from django.db import migrations

from customers import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_list_indexes"),
    ]

    operations = [
        migrations.RunPython(search_index.install, search_index.uninstall),
    ]
