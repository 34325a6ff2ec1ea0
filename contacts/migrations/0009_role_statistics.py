"""PostgreSQL: statistics of the expression the role filter compares (contacts/selectors.py, role_filter), so the
planner knows that a role is held by a sixth of the contacts, not by the 0.5% it assumes of a LIKE '%...%'.

Assuming few matches, it read all 3,000,000 contacts in parallel (35 ms, and JIT-compiled) where reading the list's
index in order stops after a few thousand (2 ms). The roles are a few lists, all in the statistics' common values.
"""

from django.db import migrations

STATISTICS = "contacts_contact_role_text"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (upper(role::text)) FROM contacts_contact", params=None
        )
        schema_editor.execute("ANALYZE contacts_contact", params=None)


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0008_row_count"),
    ]

    operations = [
        migrations.RunPython(create_statistics, drop_statistics),
    ]
