"""qwoty_fold() on PostgreSQL, with the unaccent and pg_trgm extensions: see backoffice/db/folding.py.

SQLite registers its qwoty_fold on each connection instead (backoffice/db/sqlite), so there is nothing to do there.
"""

from django.db import migrations

from backoffice.db import folding


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_change"),
    ]

    operations = [
        migrations.RunPython(folding.install_function, folding.uninstall_function),
    ]
