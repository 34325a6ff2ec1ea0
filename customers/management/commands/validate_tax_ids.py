"""Recompute the stored validation of every tax ID (status, reason, country, normal form, suggestion).

Rows are validated when they are created or their value changes; run this after upgrading
python-stdnum or changing the rules in customers/tax_ids/validation.py, so the review list agrees.
Review decisions are left as they are.
"""

from django.core.management.base import BaseCommand
from django.db.models import Count

from customers.models import TaxId
from customers.tax_ids.services import tax_ids_revalidate


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        changed = tax_ids_revalidate()
        totals = dict(
            TaxId.objects.order_by()
            .values_list("validation_status")
            .annotate(n=Count("pk"))
            .values_list("validation_status", "n")
        )
        summary = ", ".join(f"{totals.get(status, 0)} {label.lower()}" for status, label in TaxId.Validation.choices)
        self.stdout.write(f"validate_tax_ids: {changed} updated; {summary}")
