"""The push layer with real worker processes: killed mid-push, and several workers on one queue."""

import time
from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest
from django_tasks_db.models import DBTaskResult

from backoffice.sync import recovery
from backoffice.sync.models import PushAttempt, SyncStatus, Target, TargetState
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.links import link_save, new_link
from contacts.models import Contact, PrioticketLink
from contacts.services import contact_update
from tests import harness

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_mid_push_loses_nothing(pulled, drain, settings):
    settings.QWOTY_PUSH_STALE_SECONDS = 2  # the worker's call deadline is half of it: 1 s to see the PATCH in flight
    catalog = Catalog.objects.first()
    pulled.faults(latency_ms=2000)
    catalog_update(catalog=catalog, user=None, data={"name": "Survives SIGKILL"})

    worker = harness.start_worker()
    try:
        wait_for(lambda: pulled.received("PATCH"), 20, "the PATCH to be in flight")
        catalog.refresh_from_db()
        assert catalog.sync_status == SyncStatus.PUSHING
    finally:
        harness.stop(worker, kill=True)
    assert worker.returncode == -9
    pulled.faults(latency_ms=0)

    # The sandbox still applies the orphaned PATCH (its answer just never arrives), and the claim goes stale.
    time.sleep(2.5)
    assert recovery.sweep()["stale"] == 1
    drain()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED
    assert harness.differences_with_upstream() == []


@pytest.mark.parametrize("threads", [0, 4], ids=["db_worker", "qwoty_worker-4-threads"])
def test_several_workers_never_push_one_record_twice_at_once_and_skip_none(pulled, threads):
    pulled.faults(latency_ms=40)
    contacts = list(Contact.objects.all()[:40])
    for contact in contacts:
        contact_update(contact=contact, user=None, data={"id_erp": f"ERP-1-{contact.pk.hex[:6]}"})
    workers = [harness.start_worker(threads=threads) for _ in range(3)]
    try:
        for contact in contacts:  # a second round of edits while the workers are busy
            contact_update(contact=contact, user=None, data={"id_erp": f"ERP-2-{contact.pk.hex[:6]}"})
        assert harness.wait_until_all_synced(timeout=90), f"{harness.unsynced_count()} records not synced"
    finally:
        for worker in workers:
            harness.stop(worker)

    spans = defaultdict(list)
    for attempt in PushAttempt.objects.all():
        start = attempt.created_at - timedelta(milliseconds=attempt.duration_ms)
        spans[attempt.record_id].append((start, attempt.created_at))
    assert set(spans) == {c.pk for c in contacts}  # none skipped
    for record_id, intervals in spans.items():
        intervals.sort()
        assert len(intervals) <= 2, record_id  # at most one PATCH per edit round: nothing pushed twice
        for (_, end), (next_start, _) in pairwise(intervals):
            assert end <= next_start, f"overlapping pushes of {record_id}"
    assert harness.differences_with_upstream() == []


def test_several_workers_never_put_one_linked_contact_twice_at_once_and_skip_none(pulled):
    pulled.faults(latency_ms=40)
    contacts = list(Contact.objects.order_by("pk")[:20])
    for contact in contacts:
        link_save(link=new_link(contact, "prioticket"), user=None)
    workers = [harness.start_worker(threads=4) for _ in range(3)]
    try:
        for round_ in (1, 2):  # edits while the workers are busy
            for contact in contacts:
                contact_update(contact=contact, user=None, data={"first_name": f"Round {round_}"})
        assert harness.wait_until_all_synced(timeout=90), f"{harness.unsynced_count()} records or links not synced"
    finally:
        for worker in workers:
            harness.stop(worker)

    spans = defaultdict(list)
    for attempt in PushAttempt.objects.filter(target=Target.PRIOTICKET):
        start = attempt.created_at - timedelta(milliseconds=attempt.duration_ms)
        spans[attempt.record_id].append((start, attempt.created_at))
    assert set(spans) == {c.pk for c in contacts}  # none skipped
    for record_id, intervals in spans.items():
        intervals.sort()
        for (_, end), (next_start, _) in pairwise(intervals):
            assert end <= next_start, f"overlapping PUTs of {record_id}"
    assert harness.link_differences(pulled) == []


def test_on_sigterm_the_tasks_still_waiting_for_a_thread_go_back_to_the_queue(pulled):
    pulled.faults(latency_ms=1500)
    catalogs = list(Catalog.objects.all()[:8])  # 4 threads: 4 pushes in flight, 4 claimed behind them
    for n, catalog in enumerate(catalogs):
        catalog_update(catalog=catalog, user=None, data={"name": f"Batch {n}"})
    worker = harness.start_worker(threads=4)
    try:
        wait_for(lambda: len(pulled.received("PATCH")) == 4, 10, "four PATCHes in flight")
        wait_for(lambda: not DBTaskResult.objects.filter(status="READY").exists(), 5, "both batches claimed")
    finally:
        harness.stop(worker)
    assert worker.returncode == 0
    assert len(pulled.received("PATCH")) == 4  # the waiting batch was not pushed on the way out...
    rows = DBTaskResult.objects.values_list("status", "started_at", "worker_ids")
    assert sorted(status for status, *_ in rows) == ["READY"] * 4 + ["SUCCESSFUL"] * 4
    assert {(started, tuple(ids)) for status, started, ids in rows if status == "READY"} == {(None, ())}
    statuses = Catalog.objects.filter(pk__in=[c.pk for c in catalogs]).values_list("sync_status", flat=True)
    assert sorted(statuses) == [SyncStatus.PENDING] * 4 + [SyncStatus.SYNCED] * 4  # ...and waits for the next


def test_qwoty_worker_pushes_in_parallel_and_finishes_its_pushes_on_sigterm(pulled):
    pulled.faults(latency_ms=1500)
    catalogs = list(Catalog.objects.all()[:4])
    for n, catalog in enumerate(catalogs):
        catalog_update(catalog=catalog, user=None, data={"name": f"In flight {n}"})
    worker = harness.start_worker(threads=4)
    try:
        wait_for(lambda: len(pulled.received("PATCH")) == len(catalogs), 10, "four PATCHes in flight")
    finally:
        harness.stop(worker)  # SIGTERM while they are in flight
    assert worker.returncode == 0
    statuses = Catalog.objects.filter(pk__in=[c.pk for c in catalogs]).values_list("sync_status", flat=True)
    assert set(statuses) == {SyncStatus.SYNCED}  # the pushes in flight were finished, not dropped
    # ...and their task results written before the worker exited.
    assert set(DBTaskResult.objects.values_list("status", "return_value")) == {("SUCCESSFUL", "pushed")}
    spans = [
        (attempt.created_at - timedelta(milliseconds=attempt.duration_ms), attempt.created_at)
        for attempt in PushAttempt.objects.all()
    ]
    assert len(spans) == len(catalogs)
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all four were in flight together


def test_qwoty_worker_stores_each_failed_attempt_and_retries_until_qwoty_answers(pulled, settings):
    settings.QWOTY_RETRY_BASE_SECONDS = 0.1  # the worker's environment is read from these settings
    pulled.faults(outage=True)
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "After the outage"})
    attempts = PushAttempt.objects.filter(record_id=catalog.pk).order_by("id")
    worker = harness.start_worker(threads=4)
    try:
        # Their bookkeeping is written with the dispatcher's rounds, not by the push's thread: still every one.
        wait_for(lambda: attempts.count() >= 3, 20, "three failed attempts stored")
        pulled.faults(outage=False)
        wait_for(lambda: Catalog.objects.get(pk=catalog.pk).sync_status == SyncStatus.SYNCED, 20, "the push")
    finally:
        harness.stop(worker)
    stored = list(attempts)
    assert [attempt.attempt for attempt in stored] == list(range(1, len(stored) + 1))
    assert {(attempt.status, attempt.error_kind != "") for attempt in stored[:-1]} == {(503, True)}
    assert (stored[-1].status, stored[-1].error_kind) == (200, "")
    assert len(pulled.received("PATCH")) == len(stored)  # every call made is stored
    catalog.refresh_from_db()
    assert (catalog.name, catalog.push_attempts, catalog.sync_error) == ("After the outage", 0, "")


def test_with_qwoty_down_the_worker_holds_its_pushes_back_and_sends_them_all_once_it_answers(pulled, settings):
    settings.QWOTY_RETRY_BASE_SECONDS = 0.2
    settings.QWOTY_CIRCUIT_FAILURES = 3
    settings.QWOTY_CIRCUIT_MAX_SECONDS = 0.5
    pulled.faults(outage=True)
    contacts = list(Contact.objects.order_by("pk")[:20])
    held = TargetState.objects.filter(target=Target.QWOTY, failing_since__isnull=False)
    worker = harness.start_worker(threads=4)
    try:
        for n, contact in enumerate(contacts):
            contact_update(contact=contact, user=None, data={"first_name": f"Held {n}"})
        wait_for(held.exists, 20, "the worker to hold Qwoty back")
        assert held.get().failing_reason == "Service unavailable (HTTP 503)"
        time.sleep(0.5)  # the pushes claimed before it was held have failed by now
        calls = len(pulled.received("PATCH"))
        time.sleep(3)
        # One probe at a time, by now 0.25-0.5 s apart: at most 13 in 3 s. Without the circuit each of the 20
        # records would be retried about every 0.2-0.8 s: some 80 calls.
        probes = len(pulled.received("PATCH")) - calls
        assert 1 <= probes <= 13
        waiting = Contact.objects.filter(pk__in=[c.pk for c in contacts])
        assert set(waiting.values_list("sync_status", flat=True)) <= {SyncStatus.PENDING, SyncStatus.PUSHING}
        assert DBTaskResult.objects.filter(status="READY").count() >= 10  # they wait in the queue, unclaimed

        pulled.faults(outage=False)
        wait_for(lambda: not waiting.exclude(sync_status=SyncStatus.SYNCED).exists(), 20, "every contact pushed")
        wait_for(lambda: not held.exists(), 5, "Qwoty taken again")
    finally:
        harness.stop(worker)
    assert harness.differences_with_upstream() == []


def test_a_secondary_target_down_is_held_back_alone_and_its_mark_cleared_once_another_worker_gets_through(pulled):
    contacts = list(Contact.objects.order_by("pk")[:30])
    for contact in contacts:
        link_save(link=new_link(contact, "prioticket"), user=None)
    unreachable = "http://127.0.0.1:9/prioticket/v3"  # the discard port: connection refused
    held = TargetState.objects.filter(target=Target.PRIOTICKET, failing_since__isnull=False)
    calls = PushAttempt.objects.filter(target=Target.PRIOTICKET)
    # Retries and probes 15-30 s away: none within the test, so any call made once held would be one too many.
    worker = harness.start_worker(threads=4, PRIOTICKET_API_URL=unreachable, QWOTY_RETRY_BASE_SECONDS=30)
    try:
        for contact in contacts:
            contact_update(contact=contact, user=None, data={"first_name": "Linked"})
        wait_for(held.exists, 20, "the worker to hold Prioticket back")
        # Qwoty is up: its pushes go on while Prioticket's wait.
        wait_for(lambda: harness.differences_with_upstream() == [], 20, "the contacts in Qwoty")
        time.sleep(0.5)  # the pushes claimed before it was held have failed, and their attempts are stored
        tried = calls.count()
        time.sleep(1)
        assert calls.count() == tried
        assert 5 <= tried <= 5 + 2 * 4 + 4  # the opening failures, those claimed with them or before they were read
    finally:
        harness.stop(worker)
    assert not TargetState.objects.filter(target=Target.QWOTY, failing_since__isnull=False).exists()
    untried = PrioticketLink.objects.filter(push_attempts=0)
    assert untried.count() == len(contacts) - tried  # they waited in the queue, untouched

    worker = harness.start_worker(threads=4)  # a worker that reaches Prioticket: its circuit starts closed
    try:
        waiting = list(untried.values_list("pk", flat=True))
        synced = PrioticketLink.objects.filter(pk__in=waiting, sync_status=SyncStatus.SYNCED)
        wait_for(lambda: synced.count() == len(waiting), 30, "the links that waited in the queue")
    finally:
        harness.stop(worker)
    assert held.exists()  # the first worker stopped holding it back without being told it answers again...
    recovery.sweep()
    assert not held.exists()  # ...so the sweep clears the mark, seeing pushes to it go through since
