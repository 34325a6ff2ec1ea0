"""The contact's links to Prioticket and Koywe as staff see them: the card, the link form, unlink and send again."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from backoffice.sync.models import PushAttempt, SyncStatus, Target, TargetState
from contacts import link_views
from contacts.models import KoyweLink, PrioticketLink
from tests import factories

pytestmark = pytest.mark.django_db

VALID_CL_RUT = "76.086.428-5"
VALID_CL_PHONE = "+56 9 6123 4567"
HTMX = {"HX-Request": "true", "HX-Target": "contact-links"}


def read_only_user():
    """Someone who may only look at contacts: no role, just the view permission."""
    user = factories.UserFactory()
    user.user_permissions.add(Permission.objects.get(content_type__app_label="contacts", codename="view_contact"))
    return user


USERS = {
    "support": factories.support_user,
    "read_only": read_only_user,
    "sales_ops": factories.sales_ops_user,
    "manager": factories.manager_user,
    "superuser": factories.superuser,
}


@pytest.fixture
def sales(client, db):
    client.force_login(factories.sales_ops_user())
    return client


def links_url(contact) -> str:
    return reverse("contact-links", args=[contact.pk])


def link_url(contact, target: str, action: str = "") -> str:
    name = f"contact-link-{action}" if action else "contact-link"
    return reverse(name, args=[contact.pk, target])


def link_prioticket(contact, status=SyncStatus.SYNCED, **fields) -> PrioticketLink:
    """A link as the worker left it (created straight in the database: no form, no push queued by us)."""
    link = PrioticketLink.objects.create(contact=contact, **{"contact_uid": "PT-123", **fields})
    PrioticketLink.objects.filter(pk=link.pk).update(sync_status=status)
    DBTaskResult.objects.all().delete()
    link.refresh_from_db()
    return link


def koywe_data(**changes) -> dict:
    return {"koywe_id": "KW-1", "country_symbol": "CL", "business_type": "PERSON", **changes}


def prioticket_data(link, **changes) -> dict:
    return {
        "contact_uid": link.contact_uid,
        "order_reference": link.order_reference,
        "contact_language": link.contact_language,
        **changes,
    }


def target_section(html: str, target: str) -> str:
    """One target's part of the card."""
    found = re.search(rf'<section id="link-{target}".*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def field_html(html: str, name: str) -> str:
    found = re.search(rf'<div class="field[^"]*" id="field-{name}">.*?</div>', html, re.S)
    assert found, html
    return found.group(0)


def above_the_fields(html: str) -> str:
    return html.split('<div class="form-grid">')[0]


def queued_link_pushes() -> int:
    return DBTaskResult.objects.filter(task_path__endswith=".push_link").count()


def message_of(response) -> str:
    return " ".join(str(message) for message in response.wsgi_request._messages)


# -- the card ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "may_manage"),
    [("support", False), ("read_only", False), ("sales_ops", True), ("manager", True), ("superuser", True)],
)
def test_everyone_sees_the_links_and_only_full_contact_editors_get_the_buttons(client, role, may_manage):
    contact = factories.ContactFactory()
    link_prioticket(contact, order_reference="ORD-9", contact_language="fr")
    client.force_login(USERS[role]())

    response = client.get(links_url(contact), headers=HTMX)

    assert response.status_code == 200
    prioticket = target_section(response.content.decode(), "prioticket")
    assert "PT-123" in prioticket
    assert "ORD-9" in prioticket
    assert '<span class="badge badge-synced">Synced</span>' in prioticket
    assert ("Send again</button>" in prioticket) is may_manage
    assert ("Edit link</a>" in prioticket) is may_manage
    assert ("Unlink</button>" in prioticket) is may_manage
    assert (link_url(contact, "prioticket", "unlink") in prioticket) is may_manage
    koywe = target_section(response.content.decode(), "koywe")
    assert "Not linked" in koywe
    assert ("Link to Koywe</a>" in koywe) is may_manage


def test_the_contact_page_shows_the_card(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact)
    html = sales.get(reverse("contact-detail", args=[contact.pk])).content.decode()
    card = re.search(r'<section id="contact-links"[^>]*>', html).group(0)
    assert f'hx-get="{links_url(contact)}"' in card  # it keeps itself current
    assert "PT-123" in target_section(html, "prioticket")


def test_without_htmx_the_card_is_a_page_of_its_own(sales):
    contact = factories.ContactFactory(first_name="Inès", last_name="Roux")
    link_prioticket(contact)
    html = sales.get(links_url(contact)).content.decode()
    assert "<html" in html
    assert "Inès Roux" in html  # the breadcrumb back to the contact
    assert "PT-123" in html
    fragment = sales.get(links_url(contact), headers=HTMX).content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="contact-links"')


@pytest.mark.parametrize(
    ("status", "polls"),
    [(SyncStatus.PENDING, True), (SyncStatus.PUSHING, True), (SyncStatus.SYNCED, False), (SyncStatus.FAILED, False)],
)
def test_the_card_polls_only_while_a_push_is_under_way(sales, status, polls):
    contact = factories.ContactFactory()
    link_prioticket(contact, status=status)
    card = sales.get(links_url(contact), headers=HTMX).content.decode()
    assert ("every 2s" in card) is polls
    assert "sync-changed from:body" in card  # and reloads after an edit of the contact on its page
    assert ("Send again</button>" in card) is not polls  # nothing to send again while it is being sent


def test_a_failed_link_shows_the_targets_refusal(sales):
    contact = factories.ContactFactory()
    link = link_prioticket(contact, status=SyncStatus.FAILED)
    PrioticketLink.objects.filter(pk=link.pk).update(sync_error="contact_email: domain does not accept mail")
    card = target_section(sales.get(links_url(contact), headers=HTMX).content.decode(), "prioticket")
    assert '<span class="badge badge-failed">Failed</span>' in card
    assert "Prioticket refused this contact:</strong> contact_email: domain does not accept mail" in card


def test_a_link_being_retried_shows_the_last_error(sales):
    contact = factories.ContactFactory()
    link = link_prioticket(contact, status=SyncStatus.PENDING)
    PrioticketLink.objects.filter(pk=link.pk).update(push_attempts=2, sync_error="Service unavailable")
    card = target_section(sales.get(links_url(contact), headers=HTMX).content.decode(), "prioticket")
    assert "2 attempts failed so far (“Service unavailable”), trying again…" in card


def test_a_paused_target_is_said_on_its_part_of_the_card(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact, status=SyncStatus.PENDING)
    TargetState.objects.create(target=Target.PRIOTICKET, paused=True, paused_reason="Client authentication failed")
    html = sales.get(links_url(contact), headers=HTMX).content.decode()
    assert "Pushing to Prioticket is paused.</strong> Client authentication failed" in target_section(
        html, "prioticket"
    )
    assert "paused" not in target_section(html, "koywe")


def test_each_target_shows_its_own_push_history_with_the_bodies(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact)
    KoyweLink.objects.create(contact=contact, koywe_id="KW-1", country_symbol="CL")

    def attempt(target, url, **fields):
        defaults = {"method": "PUT", "status": 200, "request_body": {"sent": target}, "response_body": "{}"}
        PushAttempt.objects.create(
            target=target, resource="contacts", record_id=contact.pk, url=url, **defaults | fields
        )

    attempt(Target.PRIOTICKET, "http://prioticket.test/v3/contacts/PT-123", duration_ms=41)
    attempt(Target.KOYWE, "http://koywe.test/contacts/KW-1", status=422, error_message="taxIdNumber: invalid")
    attempt(Target.QWOTY, f"http://qwoty.test/api/contacts/{contact.pk}", method="PATCH")

    html = sales.get(links_url(contact), headers=HTMX).content.decode()
    prioticket, koywe = target_section(html, "prioticket"), target_section(html, "koywe")
    assert "PUT http://prioticket.test/v3/contacts/PT-123" in prioticket
    assert "41 ms" in prioticket
    assert "&quot;sent&quot;: &quot;prioticket&quot;" in prioticket  # the request body, pretty-printed
    assert "koywe.test" not in prioticket
    assert "taxIdNumber: invalid" in koywe
    assert '<span class="badge badge-failed">422</span>' in koywe
    assert "qwoty.test" not in html  # Qwoty's calls are in its own sync panel


# -- the link form ----------------------------------------------------------------------------------


def test_the_form_to_link_starts_from_the_contacts_id(sales):
    contact = factories.ContactFactory()
    response = sales.get(link_url(contact, "koywe"))
    assert response.status_code == 200
    assert f'value="{contact.pk}"' in field_html(response.content.decode(), "koywe_id")
    assert "Link to Koywe</button>" in response.content.decode()


def test_linking_to_koywe_with_an_invalid_tax_id_is_refused_inline_and_saves_nothing(sales):
    contact = factories.ContactFactory(phone=VALID_CL_PHONE)
    data = koywe_data(tax_id_type="RUT", tax_id_number="76.086.428-4", address_line1="Av. Apoquindo 3000")

    response = sales.post(link_url(contact, "koywe"), data)

    assert response.status_code == 422
    html = response.content.decode()
    tax_id = field_html(html, "tax_id_number")
    assert "has-error" in tax_id
    assert "Not a valid RUT" in tax_id
    assert 'value="76.086.428-4"' in tax_id  # what the user typed is kept
    assert 'value="Av. Apoquindo 3000"' in field_html(html, "address_line1")
    assert 'value="KW-1"' in field_html(html, "koywe_id")
    assert "Nothing was saved" in above_the_fields(html)
    assert not KoyweLink.objects.exists()
    assert queued_link_pushes() == 0


@pytest.mark.parametrize("dots", [".", ".."])
def test_a_target_id_of_dots_alone_is_refused_inline_and_saves_nothing(sales, dots):
    contact = factories.ContactFactory(phone=VALID_CL_PHONE)

    response = sales.post(link_url(contact, "koywe"), koywe_data(koywe_id=dots))

    assert response.status_code == 422
    koywe_id = field_html(response.content.decode(), "koywe_id")
    assert "has-error" in koywe_id
    assert "An id of dots alone would address another part of the target&#x27;s API." in koywe_id
    assert not KoyweLink.objects.exists()
    assert queued_link_pushes() == 0


def test_what_koywe_would_refuse_in_the_contact_itself_is_said_above_the_form(sales):
    contact = factories.ContactFactory(phone="+33 6 12 34 56 78")  # valid, but not in Chile
    response = sales.post(link_url(contact, "koywe"), koywe_data())
    assert response.status_code == 422
    above = above_the_fields(response.content.decode())
    assert "The contact&#x27;s phone: Koywe needs a phone number valid in CL. Fix it on the contact." in above
    assert reverse("contact-update", args=[contact.pk]) in above
    assert not KoyweLink.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_valid_koywe_link_is_created_pending_then_shows_synced_once_pushed(client, drain, sandbox_server):
    contact = factories.ContactFactory(phone=VALID_CL_PHONE)
    user = factories.sales_ops_user()
    client.force_login(user)
    data = koywe_data(business_type="COMPANY", tax_id_type="RUT", tax_id_number=VALID_CL_RUT, city="Santiago")

    response = client.post(link_url(contact, "koywe"), data, follow=True)

    assert response.redirect_chain == [(reverse("contact-detail", args=[contact.pk]), 302)]
    assert "Linked to Koywe; sending the contact now." in response.content.decode()
    link = KoyweLink.objects.get(contact=contact)
    assert (link.koywe_id, link.tax_id_number, link.city) == ("KW-1", VALID_CL_RUT, "Santiago")
    assert link.sync_status == SyncStatus.PENDING
    assert link.linked_by == user
    card = target_section(client.get(links_url(contact), headers=HTMX).content.decode(), "koywe")
    assert '<span class="badge badge-pending">Pending</span>' in card

    drain()

    card_html = client.get(links_url(contact), headers=HTMX).content.decode()
    card = target_section(card_html, "koywe")
    assert '<span class="badge badge-synced">Synced</span>' in card
    assert "every 2s" not in card_html
    assert '<span class="badge badge-synced">200</span>' in card  # the PUT, in the push history
    [put] = [entry for entry in sandbox_server.received("PUT") if entry["path"].startswith("/koywe/")]
    assert put["body"]["taxIdNumber"] == VALID_CL_RUT


def test_editing_a_link_saves_only_the_changed_fields_and_sends_it_again(sales, monkeypatch):
    contact = factories.ContactFactory()
    link = link_prioticket(contact, order_reference="ORD-1", contact_language="fr")
    saving = link_views.link_save

    def someone_else_saves_meanwhile(**kwargs):
        # Between the form's check and our save: another person changes the language, the worker its bookkeeping.
        PrioticketLink.objects.filter(pk=link.pk).update(contact_language="de", last_answer={"kept": True})
        return saving(**kwargs)

    monkeypatch.setattr(link_views, "link_save", someone_else_saves_meanwhile)

    response = sales.post(link_url(contact, "prioticket"), prioticket_data(link, order_reference="ORD-2"), follow=True)

    assert response.redirect_chain == [(reverse("contact-detail", args=[contact.pk]), 302)]
    assert "Link saved; sending again." in response.content.decode()
    link.refresh_from_db()
    assert link.order_reference == "ORD-2"
    assert link.contact_language == "de"  # not in the form's changes: not written
    assert link.last_answer == {"kept": True}
    assert link.sync_status == SyncStatus.PENDING
    assert queued_link_pushes() == 1


def test_saving_an_unchanged_link_sends_nothing(sales):
    contact = factories.ContactFactory()
    link = link_prioticket(contact, order_reference="ORD-1")
    response = sales.post(link_url(contact, "prioticket"), prioticket_data(link), follow=True)
    assert "No changes to save." in response.content.decode()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    assert queued_link_pushes() == 0


@pytest.mark.parametrize(
    ("target", "data", "field", "message"),
    [
        ("prioticket", {"contact_uid": "PT-TAKEN"}, "contact_uid", "already linked to this Prioticket contact"),
        ("koywe", koywe_data(koywe_id="KW-TAKEN"), "koywe_id", "already linked to this Koywe contact"),
    ],
)
def test_an_id_another_contact_is_linked_to_is_a_form_error(sales, target, data, field, message):
    other = factories.ContactFactory()
    PrioticketLink.objects.create(contact=other, contact_uid="PT-TAKEN")
    KoyweLink.objects.create(contact=other, koywe_id="KW-TAKEN", country_symbol="CL")
    contact = factories.ContactFactory(phone=None)

    response = sales.post(link_url(contact, target), data)

    assert response.status_code == 422
    assert message in field_html(response.content.decode(), field)
    assert not PrioticketLink.objects.filter(contact=contact).exists()
    assert not KoyweLink.objects.filter(contact=contact).exists()


@pytest.mark.parametrize(
    ("clash", "where", "message"),
    [
        ("uid", "contact_uid", "already linked to this Prioticket contact"),
        ("contact", None, "Someone linked this contact to Prioticket meanwhile"),
    ],
)
def test_a_link_saved_by_someone_else_since_the_form_was_checked_is_a_form_error(
    sales, monkeypatch, clash, where, message
):
    contact = factories.ContactFactory()
    other = factories.ContactFactory()
    saving = link_views.link_save

    def racing(**kwargs):
        if clash == "uid":
            PrioticketLink.objects.create(contact=other, contact_uid="PT-RACE")
        else:
            PrioticketLink.objects.create(contact=contact, contact_uid="PT-THEIRS")
        return saving(**kwargs)

    monkeypatch.setattr(link_views, "link_save", racing)

    response = sales.post(link_url(contact, "prioticket"), {"contact_uid": "PT-RACE"})

    assert response.status_code == 422
    html = response.content.decode()
    assert message in (field_html(html, where) if where else above_the_fields(html))
    assert not PrioticketLink.objects.filter(contact_uid="PT-RACE", contact=contact).exists()


# -- unlink, send again -----------------------------------------------------------------------------


def test_unlinking_deletes_the_link_and_says_the_target_keeps_its_copy(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact)

    response = sales.post(link_url(contact, "prioticket", "unlink"))

    assert response.status_code == 302
    assert response["Location"] == reverse("contact-detail", args=[contact.pk])
    assert "Prioticket keeps its copy of the contact" in message_of(response)
    assert not PrioticketLink.objects.filter(contact=contact).exists()


def test_unlinking_from_the_card_answers_the_card(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact)

    response = sales.post(link_url(contact, "prioticket", "unlink"), headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="contact-links"')
    assert "Unlinked from Prioticket. Prioticket keeps its copy" in html
    assert "Link to Prioticket</a>" in target_section(html, "prioticket")
    assert not PrioticketLink.objects.exists()


def test_the_unlink_button_asks_first(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact)
    card = target_section(sales.get(links_url(contact), headers=HTMX).content.decode(), "prioticket")
    form = re.search(rf'<form[^>]*action="{link_url(contact, "prioticket", "unlink")}"[^>]*>', card).group(0)
    assert 'hx-confirm="Unlink this contact from Prioticket? Prioticket keeps its copy of the contact' in form


@pytest.mark.parametrize("htmx", [False, True])
def test_send_again_queues_a_failed_link(sales, htmx):
    contact = factories.ContactFactory()
    link = link_prioticket(contact, status=SyncStatus.FAILED)

    response = sales.post(link_url(contact, "prioticket", "retry"), headers=HTMX if htmx else {})

    link.refresh_from_db()
    assert link.sync_status == SyncStatus.PENDING
    assert queued_link_pushes() == 1
    if htmx:
        card = response.content.decode()
        assert "Sending the contact to Prioticket again." in card
        assert "every 2s" in card  # the card now follows the push
    else:
        assert response["Location"] == reverse("contact-detail", args=[contact.pk])
        assert "Sending the contact to Prioticket again." in message_of(response)


def test_send_again_while_the_link_is_being_sent_queues_nothing_more(sales):
    contact = factories.ContactFactory()
    link_prioticket(contact, status=SyncStatus.PUSHING)
    response = sales.post(link_url(contact, "prioticket", "retry"))
    assert "already being sent to Prioticket" in message_of(response)
    assert queued_link_pushes() == 0


# -- who may, and what does not exist ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "action", "data"),
    [
        ("koywe", "", koywe_data(country_symbol="US")),
        ("prioticket", "", {"contact_uid": "PT-SUPPORT"}),
        ("prioticket", "unlink", {}),
        ("prioticket", "retry", {}),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_support_may_not_link_edit_unlink_or_send_again(client, target, action, data, htmx):
    contact = factories.ContactFactory(phone=None)
    link = link_prioticket(contact, status=SyncStatus.FAILED)
    client.force_login(factories.support_user())

    response = client.post(link_url(contact, target, action), data, headers=HTMX if htmx else {})

    assert response.status_code == 403
    assert not KoyweLink.objects.exists()
    link.refresh_from_db()
    assert (link.contact_uid, link.sync_status) == ("PT-123", SyncStatus.FAILED)
    assert queued_link_pushes() == 0


def test_support_may_not_open_the_link_form(client):
    contact = factories.ContactFactory()
    client.force_login(factories.support_user())
    assert client.get(link_url(contact, "koywe")).status_code == 403


@pytest.mark.parametrize(("action", "method"), [("", "get"), ("", "post"), ("unlink", "post"), ("retry", "post")])
def test_an_unknown_target_is_a_404(sales, action, method):
    contact = factories.ContactFactory()
    link_prioticket(contact)
    response = getattr(sales, method)(link_url(contact, "mailchimp", action))
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["unlink", "retry"])
def test_unlinking_or_sending_again_a_link_that_does_not_exist_is_a_404(sales, action):
    contact = factories.ContactFactory()
    link_prioticket(contact)
    assert sales.post(link_url(contact, "koywe", action)).status_code == 404
    assert PrioticketLink.objects.filter(contact=contact).exists()


def test_an_unknown_contact_is_a_404(sales):
    missing = factories.ContactFactory.build()
    assert sales.get(links_url(missing)).status_code == 404
    assert sales.get(link_url(missing, "prioticket")).status_code == 404
