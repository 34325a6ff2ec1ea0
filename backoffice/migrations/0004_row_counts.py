"""The table of exact row counts, and the function its triggers run, on PostgreSQL: see backoffice/db/row_counts.py.

Each counted table's triggers come with its app's migration. SQLite keeps no counts.
"""

from django.db import migrations

from backoffice.db import row_counts


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_fold_function"),
    ]

    operations = [
        migrations.RunPython(row_counts.install_function, row_counts.uninstall_function),
    ]
