"""Django's admin edits mirrored records through the same service: history, version, push."""

import pytest
from django.urls import reverse

from backoffice.models import Change
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_edit_is_recorded_and_pushed(client, pulled, drain, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    catalog = Catalog.objects.first()
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    form = {
        "name": "Renamed in admin",
        "api_name": catalog.api_name or "",
        "reference": catalog.reference or "",
        "description": catalog.description or "",
        "is_active": "on" if catalog.is_active else "",
        "id_crm": catalog.id_crm or "",
        "id_erp": catalog.id_erp or "",
        "id_accounting": catalog.id_accounting or "",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    catalog.refresh_from_db()
    assert (catalog.name, catalog.version, catalog.sync_status) == ("Renamed in admin", 2, SyncStatus.PENDING)
    assert Change.objects.get(record_id=catalog.pk).user == admin
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Renamed in admin"}]


def test_links_are_listed_read_only_in_the_admin(client, pulled, django_user_model):
    from contacts.links import link_save, new_link
    from contacts.models import Contact

    link = link_save(link=new_link(Contact.objects.first(), "prioticket"), user=None)
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    listing = client.get(reverse("admin:contacts_prioticketlink_changelist"))
    assert listing.status_code == 200
    assert link.contact_uid in listing.content.decode()
    assert client.get(reverse("admin:contacts_koywelink_add")).status_code == 403
    change = client.post(reverse("admin:contacts_prioticketlink_change", args=[link.pk]), {"contact_uid": "other"})
    assert change.status_code == 403
    link.refresh_from_db()
    assert link.contact_uid != "other"


def test_an_admin_edit_a_linked_target_would_refuse_is_refused_on_the_field(client, pulled, django_user_model):
    from contacts.links import link_save, new_link
    from contacts.models import Contact

    contact = Contact.objects.order_by("pk").first()
    Contact.objects.filter(pk=contact.pk).update(phone=None)
    link = new_link(Contact.objects.get(pk=contact.pk), "koywe")
    link.country_symbol = "CL"
    link_save(link=link, user=None)
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    form = {
        "customer": contact.customer_id,
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "email": contact.email or "",
        "phone": "+33 6 99 88 77 66",  # valid, but not in Chile
        "role": '["buyer"]',
        "id_crm": contact.id_crm or "",
        "id_erp": contact.id_erp or "",
        "id_accounting": contact.id_accounting or "",
    }
    response = client.post(reverse("admin:contacts_contact_change", args=[contact.pk]), form)
    assert response.status_code == 200  # the form again, with the error
    assert "Koywe needs a phone number valid in CL" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).phone is None
