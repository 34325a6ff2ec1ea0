"""Writes on customers. Pushing to Qwoty follows from the post_save receiver."""

from backoffice.sync.edits import record_update

from .models import Customer


def customer_update(*, customer: Customer, user, data: dict, expected_version: int | None = None) -> Customer:
    """Change a customer's upstream fields (`tax_ids` as the whole ordered list of {"tax", "tax_value"})."""
    return record_update(record=customer, user=user, data=data, expected_version=expected_version)
