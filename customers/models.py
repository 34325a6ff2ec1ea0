from django.conf import settings
from django.db import models
from django.utils import timezone

from backoffice.sync.models import SyncedRecord

EXTERNAL_ID_LENGTH = 255


class Customer(SyncedRecord):
    class Type(models.TextChoices):
        COMPANY = "company", "Company"
        INDIVIDUAL = "individual", "Individual"

    workspace_id = models.UUIDField(null=True, blank=True, editable=False)
    name = models.CharField(max_length=255, db_index=True)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.COMPANY)
    segment_id = models.UUIDField(null=True, blank=True, db_index=True)
    logo = models.URLField(max_length=500, null=True, blank=True)
    id_crm = models.CharField("CRM id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_erp = models.CharField("ERP id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_accounting = models.CharField(
        "accounting id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True
    )
    # Addresses are out of scope for now; the ids are kept so nothing upstream is forgotten.
    address_ids = models.JSONField(default=list, blank=True, editable=False)

    class Meta(SyncedRecord.Meta):
        ordering = ["name", "id"]
        indexes = [
            *SyncedRecord.Meta.indexes,
            models.Index(fields=["sync_status", "name"], name="customer_status_name"),
            # The list's default order, holding every column its search reads: paging and searching
            # scan this index, not the wide rows (last_synced JSON).
            models.Index(fields=["name", "id", "id_crm", "id_erp", "id_accounting"], name="customer_list"),
        ]

    def __str__(self):
        return self.name


class TaxId(models.Model):
    """One legal identifier of a customer; upstream keeps them as the ordered `tax_ids` list.

    The validation columns hold validate_tax_id's verdict, computed when the row is created or its
    value changes (customers.tax_ids.services.check_fields), so the review list filters and sorts in SQL.
    The review columns are local: a manager's approval or rejection, never sent upstream.
    """

    class Validation(models.TextChoices):
        # Alphabetical order is also "failing first": invalid, unknown, valid.
        INVALID = "invalid", "Invalid"
        UNKNOWN = "unknown", "Not checkable"
        VALID = "valid", "Valid"

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tax_ids")
    tax = models.CharField(max_length=32)
    tax_value = models.CharField(max_length=64, db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    validation_status = models.CharField(
        max_length=8, choices=Validation.choices, default=Validation.UNKNOWN, db_index=True
    )
    validation_reason = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, db_index=True, help_text="ISO code the number belongs to.")
    normalised = models.CharField(max_length=64, blank=True, db_index=True)
    suggestion = models.CharField(
        max_length=64, blank=True, help_text="The normal form to store instead, when one is known."
    )

    review_status = models.CharField(max_length=10, choices=Review.choices, default=Review.UNREVIEWED, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["customer", "position", "id"]
        verbose_name = "tax ID"
        permissions = [("review_taxid", "Can approve or reject tax IDs")]
        indexes = [
            models.Index(fields=["tax", "tax_value"], name="taxid_tax_value"),
            # The review list's default order (failing first, awaiting review first); with the searched
            # columns after it, a search or a page reads this index only, never each row of the table.
            models.Index(
                fields=["validation_status", "-review_status", "id", "normalised", "customer"], name="taxid_worklist"
            ),
        ]

    def __str__(self):
        return f"{self.tax} {self.tax_value}"

    def as_upstream(self) -> dict:
        return {"tax": self.tax, "tax_value": self.tax_value}


class TaxIdReview(models.Model):
    """One review decision on a tax ID, kept when the tax ID (or its customer) is deleted."""

    class Action(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        RESET = "reset", "Review reset"

    tax_id = models.ForeignKey(TaxId, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    # Copies, so the audit trail still reads right once the tax ID is gone.
    customer_id = models.UUIDField(db_index=True)
    tax = models.CharField(max_length=32)
    tax_value = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=Action.choices)
    note = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "tax ID review"

    def __str__(self):
        return f"{self.get_action_display()}: {self.tax} {self.tax_value}"
