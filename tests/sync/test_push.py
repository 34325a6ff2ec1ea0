"""The push layer end to end: staff edit → post_save → queue → real worker → sandbox PATCH."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from backoffice.audit.models import Change
from backoffice.sync import push, recovery, reports, statements, targets
from backoffice.sync.edits import StaleEdit
from backoffice.sync.http.errors import DOWN_KINDS, UpstreamError, UpstreamUnavailable
from backoffice.sync.models import PushAttempt, SyncStatus, TargetState
from backoffice.sync.qwoty import QwotyClient
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact
from contacts.services import contact_update
from customers.models import Customer, TaxId
from customers.services import customer_update
from tests.conftest import TEST_TOKEN
from tests.queues import BACKENDS, use_queue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=BACKENDS, autouse=True)
def task_queue(request, settings):
    """Every push test here runs on the database queue and on Redis (RQ)."""
    return use_queue(request.param, settings)


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("sam", password="x")


def patches(sandbox) -> list[dict]:
    return sandbox.received("PATCH")


def upstream(sandbox, resource, pk):
    return sandbox.api("GET", f"{resource}/{pk}").json()["data"]


def test_pull_enqueues_nothing(pulled, task_queue):
    assert Customer.objects.exists()
    assert not task_queue.tasks()
    assert not Customer.objects.exclude(sync_status=SyncStatus.SYNCED).exists()


def test_one_edit_sends_one_patch_with_only_the_changed_fields(pulled, drain, staff):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Spring 2027", "description": catalog.description})
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.PENDING

    drain()

    sent = patches(pulled)
    assert len(sent) == 1
    assert sent[0]["path"] == f"/api/catalogs/{catalog.pk}"
    assert sent[0]["body"] == {"name": "Spring 2027"}
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED
    assert catalog.last_synced["name"] == "Spring 2027"
    assert upstream(pulled, "catalogs", catalog.pk)["name"] == "Spring 2027"


def test_clearing_a_field_sends_null(pulled, drain, staff):
    contact = Contact.objects.exclude(id_crm=None).first()
    contact_update(contact=contact, user=staff, data={"id_crm": None})
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"id_crm": None}]
    assert upstream(pulled, "contacts", contact.pk)["id_crm"] is None


def test_ten_edits_before_the_worker_runs_send_one_patch(pulled, drain, staff, task_queue):
    catalog = Catalog.objects.first()
    for n in range(10):
        catalog_update(catalog=catalog, user=staff, data={"reference": f"REF-{n}"})
    assert len(task_queue.tasks()) == 1  # one task per pending episode, not per edit
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"reference": "REF-9"}]


def test_an_edit_undone_before_the_push_sends_nothing(pulled, drain, staff):
    catalog = Catalog.objects.first()
    original = catalog.name
    catalog_update(catalog=catalog, user=staff, data={"name": "Oops"})
    catalog_update(catalog=catalog, user=staff, data={"name": original})
    drain()
    assert patches(pulled) == []
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


def test_a_rolled_back_edit_pushes_nothing(pulled, drain, staff, task_queue):
    catalog = Catalog.objects.first()

    @transaction.atomic
    def edit_then_fail():
        catalog_update(catalog=catalog, user=staff, data={"name": "Never"})
        raise RuntimeError("form failed later")

    with pytest.raises(RuntimeError):
        edit_then_fail()
    assert not task_queue.tasks()
    drain()
    assert patches(pulled) == []
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status) != ("Never", SyncStatus.PENDING)


def test_applying_the_answer_does_not_echo(pulled, drain, staff, task_queue):
    contact = Contact.objects.first()
    contact_update(contact=contact, user=staff, data={"role": ["buyer", "billing"]})
    drain()
    drain()
    assert len(patches(pulled)) == 1
    assert not task_queue.tasks()


def test_customer_id_is_never_sent_and_cannot_change(pulled, drain, staff):
    contact = Contact.objects.first()
    other = Customer.objects.exclude(pk=contact.customer_id).first()
    with pytest.raises(ValueError, match="customer_id"):
        contact_update(contact=contact, user=staff, data={"customer_id": other.pk})
    contact_update(contact=contact, user=staff, data={"first_name": "Zoé"})
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"first_name": "Zoé"}]


def test_an_attempt_names_whoever_made_the_latest_of_the_edits_it_carries(pulled, drain, staff):
    other = get_user_model().objects.create_user("second-editor", password="x")
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "First"})
    catalog_update(catalog=Catalog.objects.get(pk=catalog.pk), user=other, data={"reference": "SECOND"})
    drain()
    (attempt,) = PushAttempt.objects.all()
    assert attempt.request_body == {"name": "First", "reference": "SECOND"}
    assert attempt.user == other


def test_the_migration_fills_edited_by_from_the_change_history(pulled, staff):
    from django.apps import apps

    from backoffice.sync.backfill import edited_by_from_history

    other = get_user_model().objects.create_user("second-editor", password="x")
    edited, untouched = Catalog.objects.all()[:2]
    Change.objects.create(resource="catalogs", record_id=edited.pk, user=staff, changes={})
    Change.objects.create(resource="catalogs", record_id=edited.pk, user=other, changes={})
    Change.objects.create(resource="contacts", record_id=untouched.pk, user=staff, changes={})  # another resource
    edited_by_from_history("catalogs", "catalog", "catalogs")(apps, None)
    assert Catalog.objects.get(pk=edited.pk).edited_by == other
    assert Catalog.objects.get(pk=untouched.pk).edited_by is None


def test_tax_ids_go_up_as_the_whole_ordered_list(pulled, drain, staff):
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    new_list = [{"tax": "SIREN", "tax_value": "732829320"}, *[t.as_upstream() for t in customer.tax_ids.all()]]
    customer_update(customer=customer, user=staff, data={"tax_ids": new_list})
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"tax_ids": new_list}]
    assert upstream(pulled, "customers", customer.pk)["tax_ids"] == new_list
    customer.refresh_from_db()
    assert customer.sync_status == SyncStatus.SYNCED


def test_every_attempt_is_stored_with_its_user_and_never_the_token(pulled, drain, staff):
    catalog = Catalog.objects.first()
    pulled.faults(script=[{"status": 503}])
    catalog_update(catalog=catalog, user=staff, data={"name": "Stored"})
    drain()
    attempts = list(PushAttempt.objects.order_by("created_at", "id"))
    assert [(a.status, a.error_kind, a.attempt) for a in attempts] == [(503, "unavailable", 1), (200, "", 2)]
    assert {a.user_id for a in attempts} == {staff.pk}
    assert attempts[1].request_body == {"name": "Stored"}
    assert '"name": "Stored"' in attempts[1].response_body
    for attempt in attempts:
        stored = " ".join(str(v) for v in PushAttempt.objects.filter(pk=attempt.pk).values().get().values())
        assert TEST_TOKEN not in stored


def test_edits_are_recorded_in_the_history(pulled, staff):
    contact = Contact.objects.first()
    before = contact.role
    contact_update(contact=contact, user=staff, data={"role": ["legal"]})
    change = Change.objects.get(record_id=contact.pk)
    assert (change.user, change.resource, change.changes) == (staff, "contacts", {"role": [before, ["legal"]]})


def test_invalid_values_are_refused_by_field_before_anything_is_saved_or_pushed(pulled, drain, staff):
    contact = Contact.objects.first()
    with pytest.raises(ValidationError) as refused:
        contact_update(contact=contact, user=staff, data={"email": "not-an-email", "role": ["boss"]})
    assert set(refused.value.message_dict) == {"email", "role"}
    assert "Unknown role: boss." in refused.value.message_dict["role"]
    catalog = Catalog.objects.first()
    with pytest.raises(ValidationError, match="at most 255 characters"):
        catalog_update(catalog=catalog, user=staff, data={"name": "x" * 256})
    drain()
    assert patches(pulled) == []
    assert not Change.objects.exists()


def test_a_stale_version_is_refused_with_the_current_values(pulled, staff):
    catalog = Catalog.objects.first()
    opened_at = catalog.version
    catalog_update(catalog=catalog, user=staff, data={"name": "First"}, expected_version=opened_at)
    with pytest.raises(StaleEdit) as refused:
        catalog_update(catalog=catalog, user=staff, data={"name": "Second"}, expected_version=opened_at)
    assert refused.value.current.name == "First"


# -- failures ---------------------------------------------------------------------------------


def test_transient_errors_are_retried_until_synced(pulled, drain, staff):
    pulled.faults(script=[{"status": 503}, {"drop": True}, {"status": 502}])
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Eventually"})
    drain()
    assert [p["status"] for p in patches(pulled)] == [503, None, 502, 200]
    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.push_attempts, catalog.sync_error) == (SyncStatus.SYNCED, 0, "")


def test_retry_after_is_honoured(pulled, staff, settings, task_queue):
    pulled.faults(script=[{"status": 429, "retry_after": 30}])
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Later"})
    assert push.push_now("catalogs", catalog.pk) == targets.RETRYING
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.PENDING
    assert catalog.next_push_at >= timezone.now() + timedelta(seconds=29)
    delayed = max(task_queue.tasks(), key=lambda task: task.run_after or timezone.now())
    assert delayed.run_after >= timezone.now() + timedelta(seconds=29)
    assert push.push_now("catalogs", catalog.pk) == targets.NOT_DUE  # an early duplicate task sends nothing
    assert len(patches(pulled)) == 1


def test_retries_stop_at_the_cap_and_the_record_fails_with_the_reason(pulled, drain, staff, settings):
    settings.QWOTY_PUSH_MAX_ATTEMPTS = 3
    pulled.faults(outage=True)
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Never arrives"})
    drain()
    assert len(patches(pulled)) == 3
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.FAILED
    assert catalog.sync_error == "Gave up after 3 attempts: Service unavailable"

    pulled.faults(outage=False)
    assert push.retry(catalog)
    drain()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


@pytest.mark.parametrize("status", [400, 422])
def test_a_rejected_edit_fails_at_once_with_the_upstream_message(pulled, drain, staff, status):
    message = "email is already used by another contact"
    pulled.faults(script=[{"status": status, "error": message}])
    contact = Contact.objects.first()
    contact_update(contact=contact, user=staff, data={"email": "taken@example.com"})
    drain()
    assert len(patches(pulled)) == 1
    contact.refresh_from_db()
    assert (contact.sync_status, contact.sync_error) == (SyncStatus.FAILED, message)
    assert contact.sync_error_at is not None

    # The edit is kept, not dropped; fixing it pushes again.
    assert contact.email == "taken@example.com"
    contact_update(contact=contact, user=staff, data={"email": "fixed@example.com"})
    drain()
    contact.refresh_from_db()
    assert contact.sync_status == SyncStatus.SYNCED


def test_unknown_record_upstream_fails_with_not_found(pulled, drain, staff):
    catalog = Catalog.objects.first()
    pulled.faults(script=[{"status": 404, "error": "Catalog not found"}])
    catalog_update(catalog=catalog, user=staff, data={"name": "Ghost"})
    drain()
    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.sync_error) == (SyncStatus.FAILED, "Catalog not found")


def test_a_refused_token_pauses_pushing_without_a_retry_storm_then_resumes(pulled, drain, staff):
    pulled.faults(token="qwoty_rotated")
    first, second = Catalog.objects.all()[:2]
    catalog_update(catalog=first, user=staff, data={"name": "A"})
    catalog_update(catalog=second, user=staff, data={"name": "B"})
    drain()
    assert len(patches(pulled)) == 1  # the first 401 paused the target; the second record never went out
    state = TargetState.objects.get()
    assert state.paused
    assert "Invalid API token" in state.paused_reason
    assert set(Catalog.objects.filter(pk__in=[first.pk, second.pk]).values_list("sync_status", flat=True)) == {
        SyncStatus.PENDING
    }

    assert recovery.sweep()["resumed"] == 0  # still refused: stays paused
    pulled.faults(token=TEST_TOKEN)  # the token is fixed
    assert recovery.sweep()["resumed"] == 2
    drain()
    assert not TargetState.objects.get().paused
    assert set(Catalog.objects.filter(pk__in=[first.pk, second.pk]).values_list("sync_status", flat=True)) == {
        SyncStatus.SYNCED
    }


def push_with_an_edit_in_flight(sandbox, resource: str, record_id, edit, **faults) -> None:
    """push_now, with `edit()` made while its PATCH is on the wire (the sandbox answers slowly, and as `faults`
    say)."""
    sandbox.faults(latency_ms=600, **faults)
    worker = threading.Thread(target=push.push_now, args=(resource, record_id))
    worker.start()
    for _ in range(100):  # wait until the PATCH is on the wire
        if sandbox.received("PATCH"):
            break
        threading.Event().wait(0.01)
    edit()
    worker.join()
    sandbox.faults(latency_ms=0)


def test_an_edit_made_while_the_patch_is_in_flight_is_kept_and_pushed_next(pulled, drain, staff):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "In flight"})
    push_with_an_edit_in_flight(
        pulled,
        "catalogs",
        catalog.pk,
        lambda: catalog_update(catalog=catalog, user=staff, data={"reference": "EDITED-MEANWHILE"}),
    )
    catalog.refresh_from_db()
    assert catalog.reference == "EDITED-MEANWHILE"  # not overwritten by the answer
    assert catalog.name == "In flight"
    assert catalog.sync_status == SyncStatus.PENDING
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "In flight"}, {"reference": "EDITED-MEANWHILE"}]
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


def test_an_edit_made_while_a_refused_patch_is_in_flight_is_sent_not_left_failed(pulled, drain, staff):
    """The fix staff type while Qwoty refuses the value they had saved: sent, not parked behind the refusal."""
    contact = Contact.objects.first()
    contact_update(contact=contact, user=staff, data={"email": "taken@example.com"})
    push_with_an_edit_in_flight(
        pulled,
        "contacts",
        contact.pk,
        lambda: contact_update(contact=contact, user=staff, data={"email": "fixed@example.com"}),
        script=[{"status": 422, "error": "email is already used"}],
    )
    contact.refresh_from_db()
    assert (contact.sync_status, contact.sync_error, contact.push_attempts) == (SyncStatus.PENDING, "", 0)
    assert PushAttempt.objects.get(record_id=contact.pk).error_message == "email is already used"  # in its history
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"email": "taken@example.com"}, {"email": "fixed@example.com"}]
    contact.refresh_from_db()
    assert contact.sync_status == SyncStatus.SYNCED
    assert upstream(pulled, "contacts", contact.pk)["email"] == "fixed@example.com"


def test_a_refusal_without_an_edit_in_flight_still_fails_the_record(pulled, drain, staff):
    contact = Contact.objects.first()
    contact_update(contact=contact, user=staff, data={"email": "taken@example.com"})
    push_with_an_edit_in_flight(
        pulled, "contacts", contact.pk, lambda: None, script=[{"status": 422, "error": "email is already used"}]
    )
    contact.refresh_from_db()
    assert (contact.sync_status, contact.sync_error) == (SyncStatus.FAILED, "email is already used")


def test_a_failure_written_after_the_sweep_took_the_record_back_changes_nothing(pulled, staff, settings):
    """A worker's round can write a failed push's outcome late; if the sweep has given the record to another push
    by then, that push's state is left alone (the attempt is still stored)."""
    settings.QWOTY_PUSH_STALE_SECONDS = 0.2
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Late failure"})
    pulled.faults(script=[{"status": 503}])
    with reports.reporting() as report:
        push.push_now("catalogs", catalog.pk)  # failed, its bookkeeping left for the round
    time.sleep(0.3)
    recovery.sweep()  # stale: pending again, and claimed by another push
    assert targets.claim(Catalog, catalog.pk, targets.TARGET)[0] == targets.PUSHING
    for write in report.writes:
        transaction.atomic(write)()  # the round, late
    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.push_attempts) == (SyncStatus.PUSHING, 0)
    assert PushAttempt.objects.filter(record_id=catalog.pk, status=503).count() == 1


def test_an_answer_the_database_cannot_take_leaves_the_record_to_the_sweep_and_the_call_stored(
    pulled, staff, monkeypatch
):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Answered"})

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(push, "_apply_whole_answer", gone)
    with pytest.raises(OperationalError):  # the task fails, with its traceback
        push.push_now("catalogs", catalog.pk)
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.PUSHING  # the sweep's, once stale
    assert [(a.status, a.request_body) for a in PushAttempt.objects.filter(record_id=catalog.pk)] == [
        (200, {"name": "Answered"})
    ]


def test_tax_ids_edited_while_the_patch_is_in_flight_are_kept_and_pushed_next(pulled, drain, staff):
    """Tax IDs live in their own table: the answer's (older) list must not replace the edited one."""
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    customer_update(customer=customer, user=staff, data={"name": "In flight"})
    edited = [{"tax": "SIREN", "tax_value": "732829320"}]
    push_with_an_edit_in_flight(
        pulled,
        "customers",
        customer.pk,
        lambda: customer_update(customer=customer, user=staff, data={"tax_ids": edited}),
    )
    customer.refresh_from_db()
    assert [t.as_upstream() for t in customer.tax_ids.all()] == edited
    assert customer.name == "In flight"
    assert customer.sync_status == SyncStatus.PENDING
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "In flight"}, {"tax_ids": edited}]
    assert upstream(pulled, "customers", customer.pk)["tax_ids"] == edited


def test_a_tax_id_row_written_on_its_own_while_the_patch_is_in_flight_is_pushed_next(pulled, drain, staff):
    """As the admin's inline does: the TaxId row is saved directly, the customer's version is not bumped."""
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    customer_update(customer=customer, user=staff, data={"name": "In flight"})
    before = [t.as_upstream() for t in customer.tax_ids.all()]
    added = {"tax": "SIREN", "tax_value": "732829320"}
    push_with_an_edit_in_flight(
        pulled, "customers", customer.pk, lambda: TaxId.objects.create(customer=customer, position=len(before), **added)
    )
    customer.refresh_from_db()
    assert [t.as_upstream() for t in customer.tax_ids.all()] == [*before, added]
    assert customer.sync_status == SyncStatus.PENDING
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "In flight"}, {"tax_ids": [*before, added]}]


def test_an_edit_that_removes_tax_ids_returns_the_version_now_stored(pulled, staff):
    """The version returned is the one stored, so the next save from the same form passes."""
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    saved = customer_update(customer=customer, user=staff, data={"tax_ids": []}, expected_version=customer.version)
    assert saved.version == Customer.objects.get(pk=customer.pk).version
    customer_update(customer=saved, user=staff, data={"name": "Next save"}, expected_version=saved.version)
    assert Customer.objects.get(pk=customer.pk).name == "Next save"


def test_tax_ids_changed_in_qwoty_meanwhile_come_back_with_the_answer(pulled, drain, staff):
    """The answer is Qwoty's whole object: tax IDs someone changed there replace ours, which we had not edited."""
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    theirs = [{"tax": "SIREN", "tax_value": "732829320"}]
    QwotyClient().patch("customers", customer.pk, {"tax_ids": theirs})  # another Qwoty user, before our push
    customer_update(customer=customer, user=staff, data={"name": "Ours"})
    drain()
    assert [p["body"] for p in patches(pulled)][-1] == {"name": "Ours"}
    customer.refresh_from_db()
    assert [t.as_upstream() for t in customer.tax_ids.all()] == theirs
    assert (customer.name, customer.sync_status) == ("Ours", SyncStatus.SYNCED)
    assert customer.last_synced["tax_ids"] == theirs


def test_sweep_recovers_a_record_left_pushing_by_a_dead_worker(pulled, drain, staff, settings, task_queue):
    settings.QWOTY_PUSH_STALE_SECONDS = 5
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Orphaned"})
    # A worker claimed it, then died: its task is gone, the record says pushing.
    task_queue.forget()
    Catalog.objects.filter(pk=catalog.pk).update(
        sync_status=SyncStatus.PUSHING, pushing_since=timezone.now() - timedelta(seconds=6)
    )
    assert recovery.sweep()["stale"] == 1
    drain()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED
    assert upstream(pulled, "catalogs", catalog.pk)["name"] == "Orphaned"


def test_sweep_requeues_a_pending_record_whose_task_was_lost(pulled, drain, staff, settings, task_queue):
    settings.QWOTY_PUSH_STALE_SECONDS = 5
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Lost task"})
    task_queue.forget()
    assert recovery.sweep()["overdue"] == 0  # not overdue yet
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=timezone.now() - timedelta(seconds=6))
    assert recovery.sweep()["overdue"] == 1
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "Lost task"}]


def test_sweep_does_not_requeue_the_pushes_a_worker_holds_back_for_qwoty(pulled, drain, staff, settings, task_queue):
    """They wait in the queue for Qwoty to answer: a duplicate at every sweep would pile up over an outage."""
    settings.QWOTY_PUSH_STALE_SECONDS = 5
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Held back"})
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=timezone.now() - timedelta(seconds=6))
    targets.mark_failing(push.TARGET, UpstreamUnavailable("Service unavailable", status=503))
    assert recovery.sweep()["overdue"] == 0
    assert len(task_queue.tasks()) == 1
    targets.mark_failing(push.TARGET, None)
    assert recovery.sweep()["overdue"] == 1
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "Held back"}]


@pytest.fixture
def hold_settings(settings):
    """A holding worker's calls at most 2 x (30 s + 30 s) apart."""
    settings.QWOTY_CIRCUIT_MAX_SECONDS, settings.QWOTY_RETRY_MAX_SECONDS = 30, 60
    settings.QWOTY_CALL_DEADLINE_SECONDS = 30


def held_back_since(minutes: float) -> None:
    """A worker held Qwoty back, `minutes` ago."""
    targets.mark_failing(push.TARGET, UpstreamUnavailable("Service unavailable", status=503))
    TargetState.objects.filter(target=push.TARGET).update(failing_since=timezone.now() - timedelta(minutes=minutes))


def failed_call(**fields) -> PushAttempt:
    """A stored call to Qwoty (by default one that failed as a down Qwoty fails)."""
    fields = {"status": 503, "error_kind": UpstreamUnavailable.kind, **fields}
    return PushAttempt.objects.create(target=push.TARGET, resource="catalogs", record_id=uuid.uuid4(), **fields)


def test_the_sweep_drops_a_hold_that_no_failed_call_renewed_and_queues_what_waited(
    pulled, drain, staff, task_queue, hold_settings
):
    """The worker that held Qwoty back was killed: nobody probes, nobody would clear its mark."""
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Held by a dead worker"})
    task_queue.forget()  # its task died with the worker
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=timezone.now() - timedelta(hours=1))
    held_back_since(minutes=10)
    failed_call()
    PushAttempt.objects.update(created_at=timezone.now() - timedelta(seconds=125))
    assert recovery.sweep()["overdue"] == 1
    assert not TargetState.objects.get(target=push.TARGET).failing_since
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "Held by a dead worker"}]


def test_a_hold_renewed_by_a_failed_probe_stands(staff, task_queue, hold_settings):
    held_back_since(minutes=10)
    failed_call()
    PushAttempt.objects.update(created_at=timezone.now() - timedelta(seconds=60))
    assert recovery.held_targets() == {push.TARGET}
    held_back_since(minutes=1)  # just held: no probe failed yet
    PushAttempt.objects.all().delete()
    assert recovery.held_targets() == {push.TARGET}


@pytest.mark.parametrize("answer", [{"status": 200, "error_kind": ""}, {"status": 422, "error_kind": "invalid"}])
def test_a_hold_is_dropped_once_qwoty_answered_a_call(staff, task_queue, hold_settings, answer):
    held_back_since(minutes=1)
    failed_call()
    failed_call(status=None, error_kind="unsafe_path")  # no call made: says nothing of Qwoty
    assert recovery.held_targets() == {push.TARGET}
    failed_call(**answer)  # another worker's push: Qwoty answers
    assert recovery.held_targets() == set()
    assert not TargetState.objects.get(target=push.TARGET).failing_since


def test_the_kinds_of_a_down_target_are_those_of_the_errors_retried():
    def family(cls) -> list[type]:
        return [cls, *(member for sub in cls.__subclasses__() for member in family(sub))]

    assert {cls.kind for cls in family(UpstreamError) if cls.retryable} == DOWN_KINDS


def test_request_slots_are_spaced_by_the_rate_limit(settings):
    settings.QWOTY_PUSH_RATE_PER_SECOND = 4
    state = TargetState.objects.create(target=push.TARGET)
    now = timezone.now()
    waits = []
    for _ in range(3):
        with transaction.atomic():  # as `targets.claim` does: the slot is read with the target's row locked
            locked = statements.select_for_update(TargetState, push.TARGET, ("next_slot_at",))
            waits.append(targets.take_request_slot(locked["next_slot_at"], now))
    assert waits == [0.0, 0.25, 0.5]
    state.refresh_from_db()
    assert state.next_slot_at == now + timedelta(seconds=0.75)  # shared through the database by every worker


def test_pushes_never_go_faster_than_the_rate_limit(pulled, drain, staff, settings):
    import time

    settings.QWOTY_PUSH_RATE_PER_SECOND = 5
    catalogs = list(Catalog.objects.all()[:6])
    for n, catalog in enumerate(catalogs):
        catalog_update(catalog=catalog, user=staff, data={"name": f"Rated {n}"})
    started = time.monotonic()
    drain()
    assert len(patches(pulled)) == len(catalogs)
    # Six requests at five per second: the last may not start before one second has passed.
    assert time.monotonic() - started >= (len(catalogs) - 1) / 5


def test_sweep_requeues_a_pending_record_with_no_due_time(pulled, drain, staff, task_queue):
    """A worker killed between taking the task and claiming the record leaves it pending, with no task."""
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=staff, data={"name": "Never claimed"})
    task_queue.forget()
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=None)
    assert recovery.sweep()["overdue"] == 1
    assert recovery.sweep()["overdue"] == 0  # it is due now: not queued again at every sweep
    drain()
    assert [p["body"] for p in patches(pulled)] == [{"name": "Never claimed"}]
