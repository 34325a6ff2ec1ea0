"""Preview on an edit form: the exact PATCH (and a linked contact's PUTs) saving would send, saving nothing."""

import pytest
from django.urls import reverse

from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.links import link_save, new_link
from contacts.models import Contact
from tests import factories
from tests.ui.test_record_pages import HTMX, catalog_values, contact_values

pytestmark = pytest.mark.django_db(transaction=True)


def preview(client, record, url_name: str, **values):
    data = {"version": record.version, "preview": "1", **values}
    return client.post(reverse(url_name, args=[record.pk]), data, headers=HTMX)


def pulled_phone(contact, phone: str) -> None:
    """The contact with this phone here and as Qwoty's copy, as after a pull (no edit to push)."""
    Contact.objects.filter(pk=contact.pk).update(phone=phone, last_synced={**contact.last_synced, "phone": phone})
    contact.refresh_from_db()


@pytest.fixture
def sales(client):
    client.force_login(factories.sales_ops_user())
    return client


def test_preview_shows_the_patch_and_saves_nothing(sales, pulled, task_queue):
    catalog = Catalog.objects.order_by("pk").first()
    response = preview(sales, catalog, "catalog-update", **catalog_values(catalog, name="Previewed"))

    assert response.status_code == 200
    assert response["X-Unsaved-Edit"] == "true"  # the page still warns before leaving the form
    calls = response.context["preview"]
    assert [(call.target, call.method, call.body) for call in calls] == [("Qwoty", "PATCH", {"name": "Previewed"})]
    assert calls[0].url.endswith(f"/catalogs/{catalog.pk}")
    html = response.content.decode()
    assert "Saving would send" in html
    assert 'value="Previewed"' in html  # the user's input stays in the form
    stored = Catalog.objects.get(pk=catalog.pk)
    assert (stored.name, stored.version, stored.sync_status) == (catalog.name, catalog.version, SyncStatus.SYNCED)
    assert task_queue.tasks() == []
    assert pulled.received("PATCH") == []


def test_preview_includes_an_earlier_edit_not_sent_yet(sales, pulled):
    catalog = Catalog.objects.order_by("pk").first()
    catalog_update(catalog=catalog, user=None, data={"reference": "NOT-SENT-YET"})  # no worker runs here
    catalog.refresh_from_db()
    response = preview(sales, catalog, "catalog-update", **catalog_values(catalog, name="Previewed"))
    [qwoty] = response.context["preview"]
    assert qwoty.body == {"name": "Previewed", "reference": "NOT-SENT-YET"}  # they go out as one PATCH


def test_preview_of_no_change_says_nothing_would_be_sent(sales, pulled):
    catalog = Catalog.objects.order_by("pk").first()
    response = preview(sales, catalog, "catalog-update", **catalog_values(catalog))
    [qwoty] = response.context["preview"]
    assert qwoty.body is None
    assert "Nothing to send: Qwoty already has these values." in response.content.decode()


def test_preview_of_a_linked_contact_shows_each_targets_put_and_its_checks(sales, pulled):
    contact = Contact.objects.exclude(email=None).order_by("pk").first()
    pulled_phone(contact, "+56961234567")  # valid in Chile
    staff = factories.sales_ops_user()
    link_save(link=new_link(contact, "prioticket"), user=staff)
    koywe = new_link(contact, "koywe")
    koywe.country_symbol, koywe.business_type = "CL", "PERSON"
    link_save(link=koywe, user=staff)
    # Then Qwoty's copy got a French number (a pull): Koywe, linked in Chile, would refuse the next PUT.
    pulled_phone(contact, "+33699887766")

    response = preview(sales, contact, "contact-update", **contact_values(contact, first_name="Previewed"))

    calls = {call.target: call for call in response.context["preview"]}
    assert calls["Qwoty"].body == {"first_name": "Previewed"}
    prioticket = calls["Prioticket"].body["data"]["contact"]
    assert (calls["Prioticket"].method, prioticket["contact_name_first"]) == ("PUT", "Previewed")
    assert prioticket["contact_email"] == contact.email  # the whole contact: Prioticket overwrites on PUT
    assert calls["Koywe"].body["firstName"] == "Previewed"
    assert list(calls["Koywe"].refusals) == ["Phone"]  # not valid in Chile
    assert "Koywe would refuse it" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).first_name == contact.first_name  # nothing saved


def test_an_invalid_preview_shows_the_form_errors_and_no_calls(sales, pulled):
    catalog = Catalog.objects.order_by("pk").first()
    response = preview(sales, catalog, "catalog-update", **catalog_values(catalog, name=""))
    assert response.status_code == 422
    assert "preview" not in response.context
