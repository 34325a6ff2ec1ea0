from django.db import models

from backoffice.sync.models import SyncedRecord
from customers.models import EXTERNAL_ID_LENGTH


class Catalog(SyncedRecord):
    name = models.CharField(max_length=255, db_index=True)
    api_name = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    reference = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    description = models.TextField(null=True, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    id_crm = models.CharField("CRM id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_erp = models.CharField("ERP id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True)
    id_accounting = models.CharField(
        "accounting id", max_length=EXTERNAL_ID_LENGTH, null=True, blank=True, db_index=True
    )

    class Meta(SyncedRecord.Meta):
        ordering = ["name", "id"]
        indexes = [*SyncedRecord.Meta.indexes, models.Index(fields=["name", "id"], name="catalog_list")]

    def __str__(self):
        return self.name
