"""Django's admin edits mirrored records through the same service: history, version, push."""

from html import unescape
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db.models import Count
from django.urls import reverse

from backoffice.audit.models import Change
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from customers.models import Customer
from customers.services import customer_update
from customers.tax_ids import services as tax_review
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


class _PostedValues(HTMLParser):
    """What a browser posts from a page's forms: inputs, checked boxes, selected options, textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.values[name] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n") if not self.values[self._textarea] else data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def posted_values(html: str) -> dict[str, str]:
    parser = _PostedValues()
    parser.feed(html)
    return parser.values


def opened_admin_form(client, url: str) -> dict[str, str]:
    """The admin change page's form as a browser opened it, ready to post."""
    response = client.get(url)
    assert response.status_code == 200
    return posted_values(response.content.decode())


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    return client


def test_an_admin_edit_is_recorded_and_pushed(client, pulled, drain, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    catalog = Catalog.objects.first()
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    response = client.post(url, {**opened_admin_form(client, url), "name": "Renamed in admin"})
    assert response.status_code == 302, response.content.decode()[:2000]
    catalog.refresh_from_db()
    assert (catalog.name, catalog.version, catalog.sync_status) == ("Renamed in admin", 2, SyncStatus.PENDING)
    assert Change.objects.get(record_id=catalog.pk).user == admin
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Renamed in admin"}]


@pytest.mark.parametrize("model", ["customers_customer", "contacts_contact", "catalogs_catalog"])
def test_mirrored_records_are_neither_added_nor_deleted_in_the_admin(admin_client, pulled, model):
    """Qwoty holds them and we only PATCH: an admin add or delete would be local only."""
    record = apps.get_model(*model.split("_", 1)).objects.first()
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403
    assert admin_client.post(reverse(f"admin:{model}_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    changelist = admin_client.get(reverse(f"admin:{model}_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert reverse(f"admin:{model}_add") not in changelist
    assert type(record).objects.filter(pk=record.pk).exists()


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
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    form = {**opened_admin_form(client, url), "phone": "+33 6 99 88 77 66"}  # valid, but not in Chile
    response = client.post(url, form)
    assert response.status_code == 200  # the form again, with the error
    assert "Koywe needs a phone number valid in CL" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).phone is None


# -- no lost updates: the admin's form carries what it was opened with, as our edit forms do ------


def test_a_stale_admin_form_keeps_the_name_someone_else_saved_meanwhile(admin_client, pulled):
    customer = Customer.objects.order_by("pk").first()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)
    other = factories.manager_user(first_name="Mia", last_name="Manager")
    customer_update(customer=customer, user=other, data={"name": "Renamed by Mia"})

    response = admin_client.post(url, {**form, "id_crm": "CRM-FROM-ADMIN"})

    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert (customer.name, customer.id_crm, customer.version) == ("Renamed by Mia", "CRM-FROM-ADMIN", 3)


def test_an_admin_save_over_someone_elses_change_of_the_same_field_is_refused(admin_client, pulled):
    customer = Customer.objects.order_by("pk").first()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)
    other = factories.manager_user(first_name="Mia", last_name="Manager")
    customer_update(customer=customer, user=other, data={"name": "Renamed by Mia"})

    response = admin_client.post(url, {**form, "name": "Renamed in admin", "id_crm": "CRM-FROM-ADMIN"})

    assert response.status_code == 200  # the form again, with the error on the field
    html = unescape(response.content.decode())
    assert "Mia Manager changed this to “Renamed by Mia” while you were editing" in html
    again = posted_values(response.content.decode())
    assert (again["name"], again["id_crm"]) == ("Renamed in admin", "CRM-FROM-ADMIN")  # the user's input is kept
    customer.refresh_from_db()
    assert (customer.name, customer.id_crm, customer.version) == ("Renamed by Mia", form["id_crm"] or None, 2)

    # Having seen their value, the user may save theirs knowingly.
    assert admin_client.post(url, again).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.id_crm, customer.version) == ("Renamed in admin", "CRM-FROM-ADMIN", 3)


def test_an_admin_edit_of_a_record_in_conflict_with_qwoty_is_refused_with_the_reason(admin_client, pulled):
    catalog = Catalog.objects.order_by("pk").first()
    url = reverse("admin:catalogs_catalog_change", args=[catalog.pk])
    form = opened_admin_form(admin_client, url)
    Catalog.objects.filter(pk=catalog.pk).update(
        sync_status=SyncStatus.CONFLICT, sync_conflict={"name": {"local": catalog.name, "upstream": "Qwoty's"}}
    )

    response = admin_client.post(url, {**form, "reference": "REF-FROM-ADMIN"})

    assert response.status_code == 200
    assert "unresolved conflict with Qwoty" in response.content.decode()
    catalog.refresh_from_db()
    assert (catalog.reference, catalog.version) == (form["reference"] or None, 1)


# -- the tax-ID inline: the whole list saved through tax_review, as our pages save it --------------


def tax_id_rows(form: dict, prefix: str = "tax_ids") -> list[tuple[str, str]]:
    count = int(form[f"{prefix}-TOTAL_FORMS"])
    return [(form[f"{prefix}-{i}-tax"], form[f"{prefix}-{i}-tax_value"]) for i in range(count)]


def test_an_admin_tax_id_edit_bumps_the_version_is_recorded_and_pushed(admin_client, pulled, drain):
    customer = Customer.objects.filter(tax_ids__isnull=False).order_by("pk").first()
    before = [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position", "id")]
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)
    assert tax_id_rows(form) == [(item["tax"], item["tax_value"]) for item in before]

    response = admin_client.post(url, {**form, "tax_ids-0-tax": "vat", "tax_ids-0-tax_value": "FR 40 303265045"})

    assert response.status_code == 302, response.content.decode()[:3000]
    after = [{"tax": "VAT", "tax_value": "FR40303265045"}, *before[1:]]  # checked and stored as our pages do
    customer.refresh_from_db()
    assert (customer.version, customer.sync_status) == (2, SyncStatus.PENDING)
    assert [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position")] == after
    change = Change.objects.get(record_id=customer.pk)
    assert (change.user.username, change.changes) == ("root", {"tax_ids": [before, after]})
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"tax_ids": after}]


def test_an_admin_tax_id_edit_over_someone_elses_is_refused(admin_client, pulled):
    customer = Customer.objects.filter(tax_ids__isnull=False).order_by("pk").first()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)
    first = customer.tax_ids.order_by("position", "id").first()
    tax_review.tax_id_update(tax_id=first, user=None, tax="VAT", tax_value="FR40303265045")
    theirs = [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position", "id")]

    response = admin_client.post(url, {**form, "tax_ids-0-tax_value": f"{form['tax_ids-0-tax_value']}1"})

    assert response.status_code == 200
    assert "changed this customer's tax IDs while you were editing" in unescape(response.content.decode())
    customer.refresh_from_db()
    assert customer.version == 2
    assert [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position", "id")] == theirs


def test_an_invalid_tax_id_is_refused_in_the_admin_as_on_our_pages(admin_client, pulled):
    customer = Customer.objects.filter(tax_ids__isnull=False).order_by("pk").first()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)

    response = admin_client.post(url, {**form, "tax_ids-0-tax": "VAT", "tax_ids-0-tax_value": "FR00000000000"})

    assert response.status_code == 200
    assert "Not a valid VAT" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.version, Change.objects.filter(record_id=customer.pk).exists()) == (1, False)


def test_a_targets_state_is_read_only_in_the_admin(admin_client, pulled):
    """Unpausing there would leave the pending pushes unqueued: resuming is /sync/'s."""
    from backoffice.sync.models import TargetState
    from backoffice.sync.targets import pause_target

    pause_target("Invalid API token")
    state = TargetState.objects.get()
    url = reverse("admin:sync_targetstate_change", args=[state.pk])
    page = admin_client.get(url).content.decode()
    assert "Invalid API token" in page
    assert 'name="paused"' not in page  # shown, not a field
    admin_client.post(url, {"paused": ""})
    assert TargetState.objects.get().paused


@pytest.mark.parametrize(
    ("model", "field", "value", "error"),
    [
        ("contacts_contact", "email", "larissa@localhost", "Enter an email address with a full domain"),
        ("contacts_contact", "phone", "+33 12", "Not a valid number"),
        ("catalogs_catalog", "description", "x" * 5001, "Ensure this value has at most 5000 characters"),
        ("customers_customer", "logo", "https://cdn.example.com/" + "l" * 240, "at most 255 characters"),
    ],
)
def test_the_admin_checks_a_value_as_our_edit_pages_do(admin_client, pulled, model, field, value, error):
    """A value Qwoty would refuse is refused on its field, not saved to fail its push."""
    record = apps.get_model(*model.split("_", 1)).objects.exclude(**{field: None}).first()
    url = reverse(f"admin:{model}_change", args=[record.pk])
    response = admin_client.post(url, {**opened_admin_form(admin_client, url), field: value})
    assert response.status_code == 200  # the form again, not a redirect
    assert error.lower() in response.content.decode().lower()
    assert getattr(type(record).objects.get(pk=record.pk), field) == getattr(record, field)
    assert not pulled.received("PATCH")


def test_a_contacts_customer_is_shown_not_editable_in_the_admin(admin_client, pulled):
    """Qwoty's PATCH takes no customer: a change here would be dropped, not saved."""
    from contacts.models import Contact

    contact = Contact.objects.first()
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    assert 'name="customer"' not in page
    assert str(contact.customer) in page


def test_a_tax_id_someone_else_removed_does_not_refuse_an_admin_save_of_other_fields(admin_client, pulled):
    customer = Customer.objects.annotate(n=Count("tax_ids")).filter(n__gte=2).order_by("pk").first()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = opened_admin_form(admin_client, url)
    seen = [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position", "id")]
    kept = seen[1:]
    tax_review.tax_ids_replace(customer=customer, user=None, tax_ids=kept, seen=seen)  # someone else, meanwhile

    response = admin_client.post(url, {**form, "id_crm": "CRM-MINE"})

    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert customer.id_crm == "CRM-MINE"
    assert [tax_id.as_upstream() for tax_id in customer.tax_ids.order_by("position", "id")] == kept
