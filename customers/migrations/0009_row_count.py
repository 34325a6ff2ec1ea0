"""Customers counted by triggers on PostgreSQL, so a deep page of the list is read from its end (see
backoffice/db/row_counts.py)."""

from django.db import migrations

from backoffice.db import row_counts


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0004_row_counts"),
        ("customers", "0008_folded_search"),
    ]

    operations = [
        migrations.RunPython(*row_counts.install("customers_customer")),
    ]
