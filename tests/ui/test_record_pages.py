"""Detail and edit pages: fields, histories, the self-updating sync badge, inline errors, no lost updates."""

import re
import uuid
from html import unescape

import pytest
from django.urls import NoReverseMatch, reverse

from backoffice.audit.models import Change
from backoffice.sync.models import PushAttempt, SyncStatus
from backoffice.sync.targets import pause_target
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact
from customers.models import Customer
from customers.services import customer_update
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def htmx_to(target: str) -> dict:
    return {**HTMX, "HX-Target": target}


@pytest.fixture
def sales_user():
    return factories.sales_ops_user(first_name="Sam", last_name="Sales")


@pytest.fixture
def sales(client, sales_user):
    client.force_login(sales_user)
    return client


def edit(client, record, url_name: str, **changes):
    """POST the edit form as HTMX would, with the record's current values plus `changes`."""
    data = {"version": record.version, **changes}
    return client.post(reverse(url_name, args=[record.pk]), data, headers=HTMX)


def catalog_values(catalog, **changes) -> dict:
    values = {
        "name": catalog.name,
        "reference": catalog.reference or "",
        "api_name": catalog.api_name or "",
        "description": catalog.description or "",
        "id_crm": catalog.id_crm or "",
        "id_erp": catalog.id_erp or "",
        "id_accounting": catalog.id_accounting or "",
    }
    if catalog.is_active:
        values["is_active"] = "on"
    values.update(changes)
    return values


# -- detail pages ---------------------------------------------------------------------------------


def test_customer_page_shows_its_tax_ids_and_contacts(sales):
    customer = factories.CustomerFactory(name="Faro Consulting", id_crm="CRM-1")
    factories.TaxIdFactory(customer=customer, tax="SIREN", tax_value="732829320")
    contact = factories.ContactFactory(customer=customer, first_name="Camille", last_name="Roux")
    html = sales.get(reverse("customer-detail", args=[customer.pk])).content.decode()
    assert "Faro Consulting" in html
    assert "732829320" in html
    assert reverse("contact-detail", args=[contact.pk]) in html
    assert "Camille Roux" in html


def test_contact_page_links_to_its_customer(sales):
    contact = factories.ContactFactory(phone="+33612345678")
    html = sales.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert reverse("customer-detail", args=[contact.customer_id]) in html
    assert "+33 6 12 34 56 78" in html  # shown in the international format


def test_unknown_record_is_a_404(sales):
    assert sales.get("/customers/6f1c2a52-7d1f-4a55-9d3b-2b0c8f3f6a11/").status_code == 404


def test_push_history_shows_each_attempt_with_its_bodies_and_error(sales):
    catalog = factories.CatalogFactory()
    PushAttempt.objects.create(
        resource="catalogs",
        record_id=catalog.pk,
        method="PATCH",
        url="http://sandbox/api/catalogs/x",
        request_body={"name": "x" * 300},
        status=422,
        response_body='{"success": false, "error": "name must be at most 255 characters"}',
        duration_ms=42,
        error_kind="invalid",
        error_message="name must be at most 255 characters",
    )
    html = unescape(sales.get(reverse("catalog-detail", args=[catalog.pk])).content.decode())
    assert "Push history" in html
    assert "422" in html
    assert "42 ms" in html
    assert "name must be at most 255 characters" in html
    assert '"name": "xxxx' in html


def test_a_failed_record_shows_the_upstream_error_and_a_retry_button(sales):
    catalog = factories.CatalogFactory()
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.FAILED, sync_error="Catalog not found")
    html = sales.get(reverse("catalog-detail", args=[catalog.pk])).content.decode()
    assert "Catalog not found" in html
    try:
        retry_url = reverse("sync:retry", args=["catalogs", catalog.pk])
    except NoReverseMatch:
        pytest.fail("the Retry button posts to sync:retry")
    assert f'action="{retry_url}"' in html
    assert "Retry push" in html


def test_a_record_in_conflict_says_so_with_both_values(sales):
    contact = factories.ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(
        sync_status=SyncStatus.CONFLICT, sync_conflict={"email": {"local": "ours@x.io", "upstream": "theirs@x.io"}}
    )
    html = sales.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    assert "Conflict with Qwoty" in html
    assert "ours@x.io" in html
    assert "theirs@x.io" in html


def test_the_badge_polls_while_pending_and_stops_once_synced(sales):
    catalog = factories.CatalogFactory()
    url = reverse("catalog-detail", args=[catalog.pk])
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.PENDING)
    pending = sales.get(url, headers=htmx_to(f"sync-{catalog.pk}")).content.decode().strip()
    assert pending.startswith(f'<span id="sync-{catalog.pk}" class="badge badge-pending"')
    assert 'hx-trigger="every 2s"' in pending
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.SYNCED)
    synced = sales.get(url, headers=htmx_to(f"sync-{catalog.pk}")).content.decode()
    assert "badge-synced" in synced
    assert "hx-trigger" not in synced


def test_the_sync_panel_refreshes_itself_only_while_a_push_is_under_way(sales):
    catalog = factories.CatalogFactory()
    url = reverse("catalog-detail", args=[catalog.pk])
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.PUSHING)
    pushing = sales.get(url, headers=htmx_to("sync-panel")).content.decode().strip()
    assert pushing.startswith('<section id="sync-panel"')
    assert "every 2s" in pushing
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.FAILED, sync_error="Invalid role: boss")
    failed = sales.get(url, headers=htmx_to("sync-panel")).content.decode()
    assert "every 2s" not in failed
    assert "Invalid role: boss" in failed


# -- edit pages -----------------------------------------------------------------------------------


def test_saving_changes_the_record_records_history_and_queues_the_push(sales, sales_user):
    catalog = factories.CatalogFactory(name="Spring")
    response = edit(sales, catalog, "catalog-update", **catalog_values(catalog, name="Spring 2027"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Saved. Sending to Qwoty" in html
    assert f'id="sync-{catalog.pk}" class="badge badge-pending" hx-swap-oob="true"' in html
    assert response["HX-Trigger"] == "sync-changed"
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status, catalog.version) == ("Spring 2027", SyncStatus.PENDING, 2)
    change = Change.objects.get(record_id=catalog.pk)
    assert change.user == sales_user
    assert change.changes == {"name": ["Spring", "Spring 2027"]}
    assert f'name="version" value="{catalog.version}"' in html  # the next save carries the new version

    history = sales.get(reverse("catalog-detail", args=[catalog.pk])).content.decode()
    assert "Sam Sales" in history
    assert re.search(r"Spring</span>.*→.*Spring 2027</span>", history, re.S)


def test_the_saved_notice_follows_the_push_and_gives_qwotys_reason_when_refused(sales):
    catalog = factories.CatalogFactory(name="Spring")
    html = edit(sales, catalog, "catalog-update", **catalog_values(catalog, name="Spring 2027")).content.decode()
    notice = html[html.index('id="push-outcome"') :]
    assert notice[: notice.index(">")].count('hx-trigger="every 2s"') == 1  # it polls while the push is under way
    assert "Saved. Sending to Qwoty…" in notice
    crumb = html[html.index('id="record-breadcrumb"') :]
    crumb = crumb[: crumb.index("</div>")]
    assert crumb.startswith('id="record-breadcrumb" hx-swap-oob="true"')
    assert crumb.endswith(">Spring 2027</a>")  # the new name, in the page's breadcrumb

    url = reverse("catalog-detail", args=[catalog.pk])
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.FAILED, sync_error="name is already used.")
    failed = sales.get(url, headers=htmx_to("push-outcome")).content.decode()
    assert failed.lstrip().startswith('<div id="push-outcome"')
    assert "every 2s" not in failed  # the push has ended
    assert "Qwoty refused it: “name is already used.” Fix the value and save again." in failed
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.SYNCED, sync_error="")
    assert "Saved, and Qwoty has it." in sales.get(url, headers=htmx_to("push-outcome")).content.decode()


def test_the_saved_notice_tells_a_refusal_from_qwoty_being_down_or_paused(sales):
    """A value to fix, a retry to make later, or a manager to wait for: not the same advice."""
    catalog = factories.CatalogFactory()
    url = reverse("catalog-detail", args=[catalog.pk])
    gave_up = "Gave up after 8 attempts: Service unavailable"
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.FAILED, sync_error=gave_up)
    PushAttempt.objects.create(
        target="qwoty", resource="catalogs", record_id=catalog.pk, status=503, error_kind="unavailable"
    )
    notice = sales.get(url, headers=htmx_to("push-outcome")).content.decode()
    assert f"Qwoty did not take it: “{gave_up}” Retry from the catalog's page once Qwoty answers again." in notice
    assert "Fix the value" not in notice

    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.PENDING, push_attempts=0)
    pause_target("Invalid API token")
    notice = sales.get(url, headers=htmx_to("push-outcome")).content.decode()
    assert "Pushing to Qwoty is paused (it refused our token)" in notice
    assert 'hx-trigger="every 10s"' in notice  # slowly: nothing moves until a manager resumes


def test_saving_without_htmx_redirects_to_the_record_with_a_message(sales):
    catalog = factories.CatalogFactory()
    data = {"version": catalog.version, **catalog_values(catalog, name="Plain form")}
    response = sales.post(reverse("catalog-update", args=[catalog.pk]), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("catalog-detail", args=[catalog.pk])
    assert "Saved. Sending to Qwoty" in response.content.decode()


def test_field_errors_come_back_inline_and_nothing_is_saved(sales):
    catalog = factories.CatalogFactory(name="Keep me")
    response = edit(sales, catalog, "catalog-update", **catalog_values(catalog, name="   ", reference="r" * 256))
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="record-form"')
    assert "This field is required." in html
    assert "Ensure this value has at most 255 characters" in html
    catalog.refresh_from_db()
    assert (catalog.name, catalog.version) == ("Keep me", 1)
    assert not Change.objects.exists()


def test_an_unchanged_form_saves_nothing(sales):
    catalog = factories.CatalogFactory(api_name=None, id_erp="")
    response = edit(sales, catalog, "catalog-update", **catalog_values(catalog))
    assert "No changes to save." in response.content.decode()
    catalog.refresh_from_db()
    assert (catalog.version, catalog.sync_status, catalog.id_erp) == (1, SyncStatus.SYNCED, "")
    assert not Change.objects.exists()


def test_a_stale_edit_shows_the_other_persons_values_and_saves_nothing(sales):
    catalog = factories.CatalogFactory(name="Original")
    opened_at = catalog.version
    other = factories.manager_user(first_name="Mia", last_name="Manager")
    catalog_update(catalog=catalog, user=other, data={"name": "Theirs"})

    response = sales.post(
        reverse("catalog-update", args=[catalog.pk]),
        {"version": opened_at, **catalog_values(catalog, name="Mine")},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this catalog while you were editing" in html
    assert "Mia Manager" in html
    assert re.search(r"Name</th><td>Theirs</td><td>Mine</td>", html)
    catalog.refresh_from_db()
    assert catalog.name == "Theirs"

    # Having seen their values, the user may keep theirs knowingly.
    overwrite = re.search(r'name="overwrite_version" value="(\d+)"', html).group(1)
    response = sales.post(
        reverse("catalog-update", args=[catalog.pk]),
        {"version": opened_at, "overwrite_version": overwrite, **catalog_values(catalog, name="Mine")},
        headers=HTMX,
    )
    assert response.status_code == 200
    catalog.refresh_from_db()
    assert catalog.name == "Mine"


def opened_form(catalog, **changes) -> dict:
    """What a browser posts: the values, each field's value when the form was opened, and that version."""
    opened = catalog_values(catalog)
    initial = {f"initial-{name}": value for name, value in opened.items()}
    return {"version": catalog.version, **initial, **catalog_values(catalog, **changes)}


def test_someone_elses_save_of_other_fields_is_kept_without_asking(sales):
    catalog = factories.CatalogFactory(name="Original", reference="REF-1")
    form = opened_form(catalog, name="Mine")
    catalog_update(catalog=catalog, user=None, data={"reference": "REF-THEIRS"})

    response = sales.post(reverse("catalog-update", args=[catalog.pk]), form, headers=HTMX)

    assert response.status_code == 200
    assert "Someone else saved other fields meanwhile: their changes are kept." in response.content.decode()
    catalog.refresh_from_db()
    assert (catalog.name, catalog.reference) == ("Mine", "REF-THEIRS")


def test_save_mine_anyway_overwrites_only_the_fields_i_changed(sales):
    catalog = factories.CatalogFactory(name="Original", reference="REF-1", id_erp="ERP-1")
    form = opened_form(catalog, name="Mine", reference="REF-MINE")
    catalog_update(catalog=catalog, user=None, data={"name": "Theirs", "id_erp": "ERP-THEIRS"})

    response = sales.post(reverse("catalog-update", args=[catalog.pk]), form, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 409
    assert re.search(r"Name</th><td>Theirs</td><td>Mine</td>", html)
    assert "ERP id</th>" not in html  # I never touched it: not a question

    overwrite = re.search(r'name="overwrite_version" value="(\d+)"', html).group(1)
    sales.post(reverse("catalog-update", args=[catalog.pk]), {**form, "overwrite_version": overwrite}, headers=HTMX)
    catalog.refresh_from_db()
    assert (catalog.name, catalog.reference, catalog.id_erp) == ("Mine", "REF-MINE", "ERP-THEIRS")


def test_editing_a_record_in_conflict_is_refused_with_the_reason(sales):
    catalog = factories.CatalogFactory(name="Disputed")
    Catalog.objects.filter(pk=catalog.pk).update(
        sync_status=SyncStatus.CONFLICT, sync_conflict={"name": {"local": "Ours", "upstream": "Qwoty's"}}
    )
    assert "In conflict with Qwoty" in sales.get(reverse("catalog-update", args=[catalog.pk])).content.decode()
    response = edit(sales, catalog, "catalog-update", **catalog_values(catalog, name="Another"))
    assert response.status_code == 409
    assert "In conflict with Qwoty" in response.content.decode()
    catalog.refresh_from_db()
    assert catalog.name == "Disputed"


def test_customer_form_edits_name_type_segment_and_ids(sales):
    customer = factories.CustomerFactory(name="Old name", logo=None)
    response = edit(
        sales,
        customer,
        "customer-update",
        name="New name",
        type="individual",
        segment_id="",
        logo="cdn.example.com/logo.png",
        id_crm="CRM-9",
        id_erp="",
        id_accounting="",
    )
    assert response.status_code == 200, response.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.type, customer.logo, customer.id_crm, customer.id_erp) == (
        "New name",
        Customer.Type.INDIVIDUAL,
        "https://cdn.example.com/logo.png",
        "CRM-9",
        None,
    )


# -- contacts: Support's form, phones, roles -------------------------------------------------


@pytest.fixture
def french_contact():
    customer = factories.CustomerFactory()
    factories.TaxIdFactory(customer=customer, tax="VAT", tax_value="FR40303265045")
    return factories.ContactFactory(customer=customer, phone="+33 6 99 88 77 66", role=["billing", "buyer"])


def contact_values(contact, **changes) -> dict:
    values = {
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "email": contact.email or "",
        "phone": contact.phone or "",
        "role": contact.role,
    }
    values.update(changes)
    return values


def test_support_edits_contact_details_but_never_external_ids(client, french_contact):
    client.force_login(factories.support_user())
    form = client.get(reverse("contact-update", args=[french_contact.pk])).content.decode()
    assert 'name="email"' in form
    assert 'name="id_crm"' not in form
    response = edit(
        client, french_contact, "contact-update", **contact_values(french_contact, email="new@example.com"), id_crm="X"
    )
    assert response.status_code == 200
    french_contact.refresh_from_db()
    assert french_contact.email == "new@example.com"
    assert french_contact.id_crm != "X"


def test_a_phone_without_country_code_is_read_in_the_customers_country_and_stored_e164(sales, french_contact):
    edit(sales, french_contact, "contact-update", **contact_values(french_contact, phone="06 12 34 56 78"))
    french_contact.refresh_from_db()
    assert french_contact.phone == "+33612345678"


def test_the_same_phone_written_differently_is_not_a_change(sales, french_contact):
    response = edit(sales, french_contact, "contact-update", **contact_values(french_contact, phone="0699887766"))
    assert "No changes to save." in response.content.decode()
    french_contact.refresh_from_db()
    assert french_contact.phone == "+33 6 99 88 77 66"


def test_an_invalid_phone_or_email_is_refused_inline(sales, french_contact):
    response = edit(
        sales, french_contact, "contact-update", **contact_values(french_contact, phone="12", email="a@localhost")
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Not a phone number" in html or "Not a valid number" in html
    assert "full domain" in html


def test_a_contact_whose_pulled_phone_our_check_refuses_can_still_be_edited(sales):
    contact = factories.ContactFactory(phone="+31 6 90138069", last_name="Before")  # not valid for NL
    response = edit(sales, contact, "contact-update", **contact_values(contact, last_name="After"))
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.last_name, contact.phone) == ("After", "+31 6 90138069")  # Qwoty's number kept as it was

    response = edit(sales, contact, "contact-update", **contact_values(contact, phone="+31 6 9013806"))
    assert response.status_code == 422  # a number staff type is still checked
    assert "Not a valid number" in response.content.decode()


def test_roles_keep_their_order_when_unchanged(sales, french_contact):
    response = edit(
        sales, french_contact, "contact-update", **contact_values(french_contact, role=["buyer", "billing"])
    )
    assert "No changes to save." in response.content.decode()


def test_a_change_whose_author_is_gone_still_shows_in_the_history(sales):
    catalog = factories.CatalogFactory()
    gone = factories.manager_user()
    catalog_update(catalog=catalog, user=gone, data={"name": "By someone who left"})
    gone.delete()
    html = sales.get(reverse("catalog-detail", args=[catalog.pk])).content.decode()
    assert "Someone (no account)" in html


def test_a_change_a_refresh_brought_is_qwotys_in_the_history_and_in_a_stale_form(sales, sales_user, pulled):
    from backoffice.sync.pull import pull_record
    from backoffice.ui.history import recent_changes

    catalog = Catalog.objects.first()  # as the edit form was opened
    pulled.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Renamed in Qwoty"})
    pull_record(catalog)
    history = sales.get(reverse("catalog-detail", args=[catalog.pk])).content.decode()
    assert 'Qwoty <span class="muted">(refresh)</span>' in history
    assert recent_changes(user=sales_user) == []  # the dashboard's "recent changes by staff"

    response = edit(sales, catalog, "catalog-update", **catalog_values(catalog, name="Mine"))
    assert response.status_code == 409
    assert "Qwoty (a refresh) saved it" in response.content.decode()
    assert Catalog.objects.get(pk=catalog.pk).name == "Renamed in Qwoty"


def test_a_customer_with_a_segment_saved_by_someone_else_meanwhile_keeps_both_edits(sales):
    customer = factories.CustomerFactory(name="Original", segment_id=uuid.uuid4(), id_crm="CRM-1")
    opened = {
        "name": customer.name,
        "type": customer.type,
        "segment_id": str(customer.segment_id),
        "logo": customer.logo or "",
        "id_crm": customer.id_crm,
        "id_erp": customer.id_erp or "",
        "id_accounting": customer.id_accounting or "",
    }
    form = {"version": customer.version, **{f"initial-{n}": v for n, v in opened.items()}, **opened, "name": "Mine"}
    customer_update(customer=customer, user=None, data={"id_crm": "CRM-THEIRS"})

    response = sales.post(reverse("customer-update", args=[customer.pk]), form, headers=HTMX)

    assert response.status_code == 200, response.content.decode()[:500]
    customer.refresh_from_db()
    assert (customer.name, customer.id_crm) == ("Mine", "CRM-THEIRS")
