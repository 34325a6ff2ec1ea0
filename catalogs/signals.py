from django.db.models.signals import post_save

from backoffice.sync.signals import record_saved

from .models import Catalog


def connect():
    post_save.connect(record_saved, sender=Catalog, dispatch_uid="catalogs.push_on_save")
