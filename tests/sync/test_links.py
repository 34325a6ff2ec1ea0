"""Secondary targets end to end: a contact linked to Prioticket or Koywe → post_save → queue → worker → sandbox PUT."""

import json
import logging
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backoffice.sync import connectors, links, recovery, targets
from backoffice.sync.http.errors import UnsafePath
from backoffice.sync.models import PushAttempt, SyncStatus, Target
from contacts.connectors.prioticket import CONTACT_FIELDS
from contacts.links import link_save, new_link
from contacts.models import Contact, KoyweLink, PrioticketLink
from contacts.services import contact_update
from sandbox import KOYWE_TOKEN, PRIOTICKET_CLIENT_SECRET
from tests.conftest import TEST_TOKEN
from tests.queues import BACKENDS, use_queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=BACKENDS, autouse=True)
def task_queue(request, settings):
    """Every push test here runs on the database queue and on Redis (RQ)."""
    return use_queue(request.param, settings)


VALID_CL_RUT = "76.086.428-5"
VALID_CL_PHONE = "+56 9 6123 4567"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("sam", password="x")


@pytest.fixture
def contact(pulled):
    return Contact.objects.exclude(email=None).order_by("pk").first()


def puts(sandbox, prefix: str) -> list[dict]:
    return [entry for entry in sandbox.received("PUT") if entry["path"].startswith(prefix)]


def link_prioticket(contact, staff, **fields) -> PrioticketLink:
    link = new_link(contact, "prioticket")
    for name, value in fields.items():
        setattr(link, name, value)
    return link_save(link=link, user=staff)


def link_koywe(contact, staff, **fields) -> KoyweLink:
    link = new_link(contact, "koywe")
    for name, value in {"country_symbol": "CL", "business_type": "PERSON", **fields}.items():
        setattr(link, name, value)
    return link_save(link=link, user=staff)


def set_phone(contact, phone, sandbox) -> Contact:
    """The contact with this phone, here and in Qwoty, as after a pull (no push, no staff edit)."""
    sandbox.api("PATCH", f"contacts/{contact.pk}", json={"phone": phone}).raise_for_status()
    Contact.objects.filter(pk=contact.pk).update(phone=phone, last_synced={**contact.last_synced, "phone": phone})
    sandbox.clear_log()
    return Contact.objects.get(pk=contact.pk)


def test_linking_to_prioticket_puts_the_complete_contact(contact, drain, staff, pulled):
    link = link_prioticket(contact, staff, order_reference="ORD-42", contact_language="fr")
    assert link.sync_status == SyncStatus.PENDING
    drain()

    [sent] = puts(pulled, "/prioticket/")
    assert sent["path"] == f"/prioticket/v3/contacts/{link.contact_uid}"
    assert sent["query"] == {"order_reference": "ORD-42"}
    body = sent["body"]["data"]["contact"]
    assert set(body) == set(CONTACT_FIELDS)  # the whole contact: Prioticket overwrites, never merges
    assert body["contact_uid"] == link.contact_uid
    assert body["contact_external_uid"] == str(contact.pk)
    assert (body["contact_name_last"], body["contact_email"]) == (contact.last_name, contact.email)
    assert body["contact_language"] == "fr"
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    assert link.last_answer["contact_number"].startswith("PT")  # the stored contact, kept
    stored = pulled.http.get(f"{pulled.control}/prioticket/contacts/{link.contact_uid}").json()
    assert stored["order_references"] == ["ORD-42"]
    attempt = PushAttempt.objects.get(target=Target.PRIOTICKET)
    assert (attempt.method, attempt.status, attempt.record_id, attempt.attempt) == ("PUT", 200, contact.pk, 1)
    assert attempt.url.endswith(f"/prioticket/v3/contacts/{link.contact_uid}?order_reference=ORD-42")
    assert attempt.user == staff  # who linked it: the contact itself was never edited here


def test_a_staff_edit_of_a_linked_contact_reaches_every_target(contact, drain, staff, pulled):
    contact = set_phone(contact, VALID_CL_PHONE, pulled)
    link_prioticket(contact, staff)
    link_koywe(contact, staff)
    drain()
    pulled.clear_log()

    contact_update(contact=contact, user=staff, data={"first_name": "Renée"})
    drain()

    assert [entry["body"] for entry in pulled.received("PATCH")] == [{"first_name": "Renée"}]
    [to_prioticket] = puts(pulled, "/prioticket/")
    assert to_prioticket["body"]["data"]["contact"]["contact_name_first"] == "Renée"
    [to_koywe] = puts(pulled, "/koywe/")
    assert to_koywe["body"]["firstName"] == "Renée"
    assert PrioticketLink.objects.get().sync_status == KoyweLink.objects.get().sync_status == SyncStatus.SYNCED


def test_a_rolled_back_edit_pushes_nothing_to_the_linked_targets(contact, drain, staff, pulled, task_queue):
    link_prioticket(contact, staff)
    drain()
    pulled.clear_log()
    task_queue.forget()

    with transaction.atomic():
        contact_update(contact=contact, user=staff, data={"first_name": "Never"})
        transaction.set_rollback(True)

    assert not task_queue.tasks()
    assert PrioticketLink.objects.get().sync_status == SyncStatus.SYNCED
    drain()
    assert not pulled.received("PUT")


def test_a_push_that_would_send_the_same_again_sends_nothing(contact, drain, staff, pulled):
    link = link_prioticket(contact, staff)
    drain()
    pulled.clear_log()
    contact_update(contact=contact, user=staff, data={"first_name": "Temporary"})
    contact_update(contact=contact, user=staff, data={"first_name": contact.first_name})  # undone before the push
    drain()
    assert not puts(pulled, "/prioticket/")
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED


def test_staff_retry_sends_again_even_when_nothing_changed(contact, drain, staff, pulled):
    link = link_prioticket(contact, staff)
    drain()
    pulled.clear_log()
    assert links.retry(links.connectors.get("prioticket"), link)
    drain()
    assert len(puts(pulled, "/prioticket/")) == 1


def test_one_oauth_token_serves_many_pushes_and_a_revoked_one_is_replaced(contact, drain, staff, pulled):
    link = link_prioticket(contact, staff)
    drain()
    for name in ("A", "B"):
        contact_update(contact=contact, user=staff, data={"first_name": name})
        drain()
    issued = pulled.http.get(f"{pulled.control}/prioticket/tokens-issued").json()["count"]
    assert len(puts(pulled, "/prioticket/")) == 3
    assert issued == 1

    pulled.http.post(f"{pulled.control}/prioticket/revoke").raise_for_status()
    contact_update(contact=contact, user=staff, data={"first_name": "C"})
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    assert pulled.http.get(f"{pulled.control}/prioticket/tokens-issued").json()["count"] == 2


def test_refused_client_credentials_pause_prioticket_only(contact, drain, staff, pulled, settings):
    settings.PRIOTICKET_CLIENT_SECRET = "not-the-secret"
    link = link_prioticket(contact, staff)
    drain()

    link.refresh_from_db()
    assert link.sync_status == SyncStatus.PENDING
    assert "Client authentication failed" in link.sync_error  # the token endpoint's own words
    assert targets.target_state(Target.PRIOTICKET).paused
    assert not targets.target_state(Target.QWOTY).paused
    contact_update(contact=contact, user=staff, data={"first_name": "Still pushed to Qwoty"})
    drain()
    assert Contact.objects.get(pk=contact.pk).sync_status == SyncStatus.SYNCED

    settings.PRIOTICKET_CLIENT_SECRET = PRIOTICKET_CLIENT_SECRET
    assert targets.resume(Target.PRIOTICKET) == 1
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    assert puts(pulled, "/prioticket/")[-1]["body"]["data"]["contact"]["contact_name_first"] == "Still pushed to Qwoty"


def test_transient_failures_are_retried_then_synced(contact, drain, staff, pulled):
    pulled.faults(script=[{"status": 503}, {"status": 429, "retry_after": 0}])
    link = link_prioticket(contact, staff)
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    attempts = list(PushAttempt.objects.filter(target=Target.PRIOTICKET).order_by("created_at", "id"))
    assert [(a.status, a.attempt) for a in attempts] == [(503, 1), (429, 2), (200, 3)]


def test_retries_are_capped(contact, drain, staff, pulled, settings):
    settings.QWOTY_PUSH_MAX_ATTEMPTS = 3
    pulled.faults(outage=True)
    link = link_prioticket(contact, staff)
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.FAILED
    assert link.sync_error.startswith("Gave up after 3 attempts")


def test_a_refusal_fails_the_link_at_once_with_the_targets_message(contact, drain, staff, pulled):
    contact = set_phone(contact, None, pulled)
    pulled.faults(script=[{"status": 422, "error": "documentNumber: does not match the country"}])
    link = link_koywe(contact, staff)
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.FAILED
    assert link.sync_error == "documentNumber: does not match the country"
    assert PushAttempt.objects.filter(target=Target.KOYWE).count() == 1


def test_koywe_gets_its_fields_on_its_path(contact, drain, staff, pulled):
    contact = set_phone(contact, VALID_CL_PHONE, pulled)
    link = link_koywe(contact, staff, business_type="COMPANY", tax_id_type="RUT", tax_id_number=VALID_CL_RUT)
    drain()

    [sent] = puts(pulled, "/koywe/")
    assert sent["path"] == f"/koywe/v1/organizations/org_sandbox/merchants/mer_sandbox/contacts/{link.koywe_id}"
    assert sent["body"]["countrySymbol"] == "CL"
    assert (sent["body"]["taxIdType"], sent["body"]["taxIdNumber"]) == ("RUT", VALID_CL_RUT)
    assert sent["body"]["externalId"] == str(contact.pk)
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED, link.sync_error
    assert link.last_answer["tax"] == {"type": "RUT", "number": VALID_CL_RUT}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"tax_id_type": "RUT", "tax_id_number": "76.086.428-4"}, "tax_id_number", "Not a valid RUT"),
        ({"tax_id_type": "RUT"}, "tax_id_number", "needs the tax ID's number"),
        ({"country_symbol": "AR", "tax_id_type": "RUT", "tax_id_number": VALID_CL_RUT}, "tax_id_type", "in AR"),
        ({"document_type": "DNI"}, "document_number", "needs the number"),
        ({"business_type": "COMPANY", "document_type": "DNI", "document_number": "1"}, "document_type", "company"),
    ],
)
def test_a_link_koywe_would_refuse_is_refused_in_the_form(contact, staff, pulled, fields, field, message, task_queue):
    contact = set_phone(contact, None, pulled)
    with pytest.raises(ValidationError) as refused:
        link_koywe(contact, staff, **fields)
    assert message in " ".join(refused.value.message_dict[field])
    assert not KoyweLink.objects.exists()
    assert not task_queue.tasks()


def test_every_field_koywe_would_refuse_is_told_at_once(contact, staff, pulled, task_queue):
    """A document type the business does not take and no number, a tax ID type the country does not take and no
    number: all four in one answer, not one a submit."""
    contact = set_phone(contact, None, pulled)
    wrong = {"business_type": "PERSON", "document_type": "CNPJ", "country_symbol": "AR", "tax_id_type": "RUT"}
    with pytest.raises(ValidationError) as refused:
        link_koywe(contact, staff, **wrong)
    assert set(refused.value.message_dict) == {"document_type", "document_number", "tax_id_type", "tax_id_number"}


def test_a_contact_edit_koywe_would_refuse_is_refused_and_nothing_is_saved(contact, staff, pulled):
    contact = set_phone(contact, VALID_CL_PHONE, pulled)
    link_koywe(contact, staff)

    with pytest.raises(ValidationError) as refused:
        contact_update(contact=contact, user=staff, data={"phone": "+33 6 99 88 77 66"})  # valid, but not in Chile
    assert "valid in CL" in refused.value.message_dict["phone"][0]
    assert Contact.objects.get(pk=contact.pk).phone == VALID_CL_PHONE

    contact_update(contact=contact, user=staff, data={"phone": "+56 9 8765 4321"})
    assert Contact.objects.get(pk=contact.pk).phone == "+56 9 8765 4321"


def test_an_edit_made_while_the_put_is_in_flight_is_sent_next(contact, drain, staff, pulled, task_queue):
    link = link_prioticket(contact, staff)
    drain()
    pulled.clear_log()
    pulled.faults(latency_ms=400)
    contact_update(contact=contact, user=staff, data={"first_name": "First"})
    task_queue.forget("push_record")  # only the link's push, not Qwoty's
    result = {}
    pusher = threading.Thread(target=lambda: result.update(outcome=links.push_now("prioticket", link.pk)))
    pusher.start()
    _wait_until(lambda: PrioticketLink.objects.get().sync_status == SyncStatus.PUSHING)
    contact_update(contact=Contact.objects.get(pk=contact.pk), user=staff, data={"first_name": "Second"})
    pusher.join()
    assert result["outcome"] == targets.PUSHED
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.PENDING  # the newer version goes next
    pulled.faults(latency_ms=0)
    drain()
    names = [entry["body"]["data"]["contact"]["contact_name_first"] for entry in puts(pulled, "/prioticket/")]
    assert names == ["First", "Second"]
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED


def test_the_sweep_requeues_a_link_left_pushing_by_a_dead_worker(contact, drain, staff, pulled, settings, task_queue):
    link = link_prioticket(contact, staff)
    task_queue.forget()  # the task died with its worker
    long_ago = timezone.now() - timedelta(seconds=settings.QWOTY_PUSH_STALE_SECONDS + 1)
    PrioticketLink.objects.filter(pk=link.pk).update(sync_status=SyncStatus.PUSHING, pushing_since=long_ago)

    assert recovery.sweep()["stale_links"] == 1
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED


def test_no_secret_is_stored_or_logged(contact, drain, staff, pulled, caplog):
    caplog.set_level(logging.DEBUG)
    contact = set_phone(contact, None, pulled)
    pulled.faults(script=[{"status": 503, "error": f"echo Bearer {KOYWE_TOKEN} {PRIOTICKET_CLIENT_SECRET}"}])
    link_prioticket(contact, staff)
    link_koywe(contact, staff)
    drain()
    stored = json.dumps(list(PushAttempt.objects.values()), default=str)
    assert PushAttempt.objects.filter(status=503).exists()
    for secret in (KOYWE_TOKEN, PRIOTICKET_CLIENT_SECRET, TEST_TOKEN):
        assert secret not in stored
        assert secret not in caplog.text
    assert "access_token" not in stored


def _wait_until(condition, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.parametrize("uid", ["abc/../../x?y=1#z", "%41BC", "a b"])
def test_a_target_id_that_would_change_the_url_is_refused(contact, staff, pulled, uid):
    with pytest.raises(ValidationError) as refused:
        link_prioticket(contact, staff, contact_uid=uid)
    assert "letters, digits" in refused.value.message_dict["contact_uid"][0]
    assert not PrioticketLink.objects.exists()


@pytest.mark.parametrize(("target", "field"), [("prioticket", "contact_uid"), ("koywe", "koywe_id")])
@pytest.mark.parametrize("dots", [".", "..", "..."])
def test_a_target_id_of_dots_alone_is_refused(contact, staff, pulled, target, field, dots):
    link = {"prioticket": link_prioticket, "koywe": link_koywe}[target]
    with pytest.raises(ValidationError) as refused:
        link(set_phone(contact, VALID_CL_PHONE, pulled), staff, **{field: dots})
    assert "dots alone" in refused.value.message_dict[field][0]
    assert not connectors.get(target).model.objects.exists()


@pytest.mark.parametrize(("target", "field"), [("prioticket", "contact_uid"), ("koywe", "koywe_id")])
@pytest.mark.parametrize("dots", [".", ".."])
def test_a_link_holding_a_dot_id_fails_without_sending_anything(contact, drain, staff, pulled, target, field, dots):
    # `..` once sent our token in a PUT to Koywe's merchant record, and to Prioticket's /v3/.
    contact = set_phone(contact, VALID_CL_PHONE, pulled)
    link = {"prioticket": link_prioticket, "koywe": link_koywe}[target](contact, staff)
    connectors.get(target).model.objects.filter(pk=link.pk).update(**{field: dots})  # past the form's check

    drain()

    assert not pulled.received("PUT")
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.FAILED
    what = {"prioticket": "the Prioticket contact uid", "koywe": "the Koywe contact id"}[target]
    assert link.sync_error == f"Not sent: {what} {dots!r} would point the call at another endpoint than the contact's."
    assert not PushAttempt.objects.filter(target=target).exists()


@pytest.mark.parametrize("path", ["contacts/..", "contacts/.", "contacts/../../x", "./contacts/1"])
def test_no_call_to_a_target_leaves_its_path_through_a_dot_segment(pulled, path):
    with pytest.raises(UnsafePath, match=r"has a \. or \.\. segment"):
        connectors.get("koywe").client().request("PUT", path, json={})
    assert not pulled.received()


def test_a_change_pulled_from_qwoty_reaches_the_linked_targets(contact, drain, staff, pulled):
    from backoffice.sync.pull import pull_record

    link_prioticket(contact, staff)
    drain()
    pulled.api("PATCH", f"contacts/{contact.pk}", json={"first_name": "Changed in Qwoty"}).raise_for_status()
    pulled.clear_log()

    pull_record(Contact.objects.get(pk=contact.pk))
    drain()

    [sent] = puts(pulled, "/prioticket/")
    assert sent["body"]["data"]["contact"]["contact_name_first"] == "Changed in Qwoty"
    assert not pulled.received("PATCH")  # no echo to Qwoty


def test_another_prioticket_contact_gets_nothing_kept_from_the_previous_one(contact, drain, staff, pulled):
    link = link_prioticket(contact, staff, contact_uid="PT-A")
    drain()
    PrioticketLink.objects.filter(pk=link.pk).update(
        last_answer={**PrioticketLink.objects.get().last_answer, "contact_passport": "PASSPORT-OF-A"}
    )
    link.refresh_from_db()
    link.contact_uid = "PT-B"
    link_save(link=link, user=staff, fields=["contact_uid"])
    drain()
    sent = puts(pulled, "/prioticket/v3/contacts/PT-B")[-1]["body"]["data"]["contact"]
    assert sent["contact_passport"] is None


def test_refused_credentials_ask_for_a_token_once_and_a_wrong_token_url_pauses(contact, drain, staff, pulled, settings):
    settings.PRIOTICKET_CLIENT_SECRET = "not-the-secret"
    link_prioticket(contact, staff)
    drain()
    assert len([e for e in pulled.received("POST") if e["path"].endswith("/oauth2/token")]) == 1

    settings.PRIOTICKET_CLIENT_SECRET = PRIOTICKET_CLIENT_SECRET
    settings.PRIOTICKET_TOKEN_URL = settings.PRIOTICKET_TOKEN_URL.replace("/token", "/nope")
    targets.resume(Target.PRIOTICKET)
    drain()
    assert targets.target_state(Target.PRIOTICKET).paused
    assert "check the Prioticket settings" in targets.target_state(Target.PRIOTICKET).paused_reason


def test_an_access_token_echoed_bare_is_not_stored(contact, drain, staff, pulled):
    token = connectors.get("prioticket").client().auth.token()
    pulled.faults(script=[{"status": 400, "error": f"token {token} lacks a scope"}])
    link_prioticket(contact, staff)
    drain()
    assert PushAttempt.objects.filter(target=Target.PRIOTICKET, status=400).exists()
    assert token not in json.dumps(list(PushAttempt.objects.values()), default=str)
    assert token not in PrioticketLink.objects.get().sync_error


def test_an_unreadable_token_lifetime_serves_one_call():
    from backoffice.sync.connectors.http import _seconds

    assert [_seconds(v) for v in ("3600", 60, "3600s", None, [1], -5)] == [3600.0, 60.0, 0.0, 0.0, 0.0, 0.0]


def test_an_edit_during_a_failing_put_keeps_the_backoff_and_the_count(contact, drain, staff, pulled, task_queue):
    link = link_prioticket(contact, staff)
    task_queue.forget()
    connectors.get("prioticket").client().auth.token()  # the outage below is for the PUT
    pulled.faults(outage=True, latency_ms=400)
    result = {}
    pusher = threading.Thread(target=lambda: result.update(outcome=links.push_now("prioticket", link.pk)))
    pusher.start()
    _wait_until(lambda: PrioticketLink.objects.get().sync_status == SyncStatus.PUSHING)
    contact_update(contact=Contact.objects.get(pk=contact.pk), user=staff, data={"first_name": "During"})
    pusher.join()
    assert result["outcome"] == targets.RETRYING
    link.refresh_from_db()
    assert (link.sync_status, link.push_attempts, link.sync_error) == (SyncStatus.PENDING, 1, "Service unavailable")
    assert link.next_push_at > timezone.now() - timedelta(seconds=1)


def test_a_link_unlinked_while_its_put_is_in_flight_is_not_queued_again(contact, drain, staff, pulled, task_queue):
    link = link_prioticket(contact, staff)
    task_queue.forget()
    pulled.faults(latency_ms=400)
    result = {}
    pusher = threading.Thread(target=lambda: result.update(outcome=links.push_now("prioticket", link.pk)))
    pusher.start()
    _wait_until(lambda: PrioticketLink.objects.get().sync_status == SyncStatus.PUSHING)
    PrioticketLink.objects.all().delete()
    pusher.join()
    assert result["outcome"] == targets.PUSHED
    assert "push_link" not in [task.name for task in task_queue.tasks()]


def test_the_sweep_requeues_a_new_link_whose_task_died_before_the_claim(contact, drain, staff, pulled, task_queue):
    link = link_prioticket(contact, staff)
    task_queue.forget()
    PrioticketLink.objects.filter(pk=link.pk).update(next_push_at=None)
    assert recovery.sweep()["overdue_links"] == 1
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
