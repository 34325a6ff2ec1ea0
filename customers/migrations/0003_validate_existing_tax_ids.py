"""Fill the validation columns of the tax IDs that existed before they were added."""

from django.db import migrations


def validate_existing(apps, schema_editor):
    # Pure functions (python-stdnum only): safe to call from a migration.
    from customers.tax_ids.countries import customer_country
    from customers.tax_ids.services import CHECK_FIELDS, check_fields

    TaxId = apps.get_model("customers", "TaxId")
    customer_ids = TaxId.objects.order_by().values_list("customer_id", flat=True).distinct()
    pending = []
    for customer_id in customer_ids.iterator(chunk_size=2000):
        rows = list(TaxId.objects.filter(customer_id=customer_id).order_by("position", "id"))
        country = customer_country([(row.tax, row.tax_value) for row in rows])
        for row in rows:
            for name, value in check_fields(row.tax, row.tax_value, country=country).items():
                setattr(row, name, value)
            pending.append(row)
        if len(pending) >= 2000:
            TaxId.objects.bulk_update(pending, CHECK_FIELDS, batch_size=500)
            pending = []
    TaxId.objects.bulk_update(pending, CHECK_FIELDS, batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0002_taxid_review"),
    ]

    operations = [
        migrations.RunPython(validate_existing, migrations.RunPython.noop, elidable=True),
    ]
