from django.db.models.signals import post_save

from backoffice.sync.signals import link_saved, linked_record_saved, record_saved

from .models import Contact, KoyweLink, PrioticketLink


def connect():
    post_save.connect(record_saved, sender=Contact, dispatch_uid="contacts.push_on_save")
    # A contact linked to a secondary target is sent there too; a link changed by staff is sent again.
    post_save.connect(linked_record_saved, sender=Contact, dispatch_uid="contacts.push_links_on_save")
    for model in (PrioticketLink, KoyweLink):
        post_save.connect(link_saved, sender=model, dispatch_uid=f"contacts.push_{model._meta.model_name}")
