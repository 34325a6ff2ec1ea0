from django.db.models.signals import post_save

from backoffice.sync.signals import record_saved

from .models import Contact


def connect():
    post_save.connect(record_saved, sender=Contact, dispatch_uid="contacts.push_on_save")
