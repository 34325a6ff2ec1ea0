from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from backoffice.sync import connectors
from backoffice.sync.models import SyncedRecord, TargetLink
from customers.models import EXTERNAL_ID_LENGTH, Customer

from .connectors import koywe


class Role(models.TextChoices):
    """The six roles Qwoty accepts in a contact's `role` list."""

    BUYER = "buyer", "Buyer"
    SIGNER = "signer", "Signer"
    BILLING = "billing", "Billing"
    SHIPPING = "shipping", "Shipping"
    LEGAL = "legal", "Legal"
    ADMIN = "admin", "Admin"


def validate_roles(value):
    if not isinstance(value, list):
        raise ValidationError("Roles must be a list.")
    unknown = [role for role in value if role not in Role.values]
    if unknown:
        raise ValidationError("Unknown role: %(roles)s.", params={"roles": ", ".join(map(str, unknown))})
    if len(set(value)) != len(value):
        raise ValidationError("Each role may appear only once.")


class Contact(SyncedRecord):
    # customer_id cannot change after creation (upstream refuses it); services never reassign it.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=255, null=True, blank=True)
    last_name = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    email = models.EmailField(max_length=255, null=True, blank=True, db_index=True)
    phone = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    role = models.JSONField(default=list, blank=True, validators=[validate_roles])
    id_crm = models.CharField("CRM id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_erp = models.CharField("ERP id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_accounting = models.CharField(
        "accounting id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True
    )

    class Meta(SyncedRecord.Meta):
        ordering = ["last_name", "first_name", "id"]
        # The list's default order, so a page (even page 1,000) is read from the index; with the roles in it,
        # filtering by role reads the index only, not each contact's row.
        indexes = [
            *SyncedRecord.Meta.indexes,
            models.Index(fields=["last_name", "first_name", "id", "role"], name="contact_list_roles"),
        ]
        permissions = [("change_contact_details", "Can change a contact's roles, name, email and phone")]

    def __str__(self):
        return self.full_name or self.email or str(self.id)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


# A target's id for a contact goes into its URL: letters, digits and - _ . : only (a UUID fits).
target_id = RegexValidator(r"^[A-Za-z0-9_.:-]+$", "Use letters, digits and - _ . : only.")


def not_dots_only(value: str) -> None:
    """`.` or `..` in the URL would address the target's endpoint above the contact's (its merchant, its API)."""
    if connectors.dots_only(value):
        raise ValidationError("An id of dots alone would address another part of the target's API.")


class PrioticketLink(TargetLink):
    """The contact's copy in Prioticket, which every edit overwrites whole (see connectors/prioticket.py)."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="prioticket_link")
    contact_uid = models.CharField(
        "Prioticket contact uid",
        max_length=64,
        unique=True,
        validators=[target_id, not_dots_only],
        help_text="Prioticket's id for this contact.",
    )
    order_reference = models.CharField(
        max_length=64, blank=True, help_text="Also update the contact on this order (existing orders keep theirs)."
    )
    contact_language = models.CharField("language", max_length=8, blank=True, help_text="e.g. en, fr, es-CL")

    def __str__(self):
        return f"Prioticket {self.contact_uid}"


class KoyweLink(TargetLink):
    """The contact's copy in Koywe, with what Koywe needs that Qwoty does not hold (connectors/koywe.py)."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="koywe_link")
    koywe_id = models.CharField("Koywe contact id", max_length=64, unique=True, validators=[target_id, not_dots_only])
    country_symbol = models.CharField("country", max_length=2, choices=koywe.COUNTRIES)
    business_type = models.CharField(max_length=16, choices=koywe.BUSINESS_TYPES, default="PERSON")
    document_type = models.CharField(max_length=16, choices=koywe.DOCUMENT_TYPE_CHOICES, blank=True)
    document_number = models.CharField(max_length=64, blank=True)
    tax_id_type = models.CharField("tax ID type", max_length=8, choices=koywe.TAX_ID_TYPE_CHOICES, blank=True)
    tax_id_number = models.CharField("tax ID number", max_length=64, blank=True)
    address_line1 = models.CharField("address line 1", max_length=255, blank=True)
    address_line2 = models.CharField("address line 2", max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=128, blank=True)
    postal_code = models.CharField(max_length=32, blank=True)

    def __str__(self):
        return f"Koywe {self.koywe_id}"
