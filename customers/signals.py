from django.db.models.signals import post_delete, post_save

from backoffice.sync.signals import record_saved, related_row_changed

from .models import Customer, TaxId


def connect():
    post_save.connect(record_saved, sender=Customer, dispatch_uid="customers.push_on_save")
    post_save.connect(related_row_changed, sender=TaxId, dispatch_uid="customers.push_on_tax_id_save")
    post_delete.connect(related_row_changed, sender=TaxId, dispatch_uid="customers.push_on_tax_id_delete")
