"""qwoty_push and qwoty_sweep, the operators' handles on the push layer."""

import io
import queue
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from backoffice.management.commands import qwoty_worker
from backoffice.sync import circuit, reports
from backoffice.sync.http.errors import UpstreamConnectionError
from backoffice.sync.models import SyncStatus, Target, TargetState
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.links import link_save, new_link
from contacts.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_push_all_pending_sends_each_pending_record(pulled):
    first, second, third = Catalog.objects.all()[:3]
    catalog_update(catalog=first, user=None, data={"name": "One"})
    catalog_update(catalog=second, user=None, data={"name": "Two"})
    assert run("qwoty_push", "--all-pending") == "2 record(s): 2 pushed\n"
    assert sorted(p["body"]["name"] for p in pulled.received("PATCH")) == ["One", "Two"]
    assert set(Catalog.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert third.sync_status == SyncStatus.SYNCED


def test_push_one_record_even_while_backing_off(pulled):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Now"})
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=timezone.now() + timedelta(hours=1))
    assert run("qwoty_push", "--record", str(catalog.pk)) == f"catalogs {catalog.pk}: pushed (synced)\n"


def test_push_record_reports_the_upstream_rejection(pulled):
    catalog = Catalog.objects.first()
    pulled.faults(script=[{"status": 422, "error": "api_name is already taken"}])
    catalog_update(catalog=catalog, user=None, data={"api_name": "taken"})
    with pytest.raises(CommandError, match="api_name is already taken"):
        run("qwoty_push", "--record", str(catalog.pk))


def test_push_unknown_record_is_a_clear_error(pulled):
    with pytest.raises(CommandError, match="No customer, contact or catalog with id"):
        run("qwoty_push", "--record", "00000000-0000-4000-8000-000000000000")


def test_sweep_once_reports_what_it_did(pulled, settings):
    settings.QWOTY_PUSH_STALE_SECONDS = 1
    catalog = Catalog.objects.first()
    Catalog.objects.filter(pk=catalog.pk).update(
        sync_status=SyncStatus.PUSHING, pushing_since=timezone.now() - timedelta(seconds=5)
    )
    links = "0 stale and 0 overdue links"
    assert run("qwoty_sweep") == (
        f"sweep: 1 stale, 0 overdue re-queued, 0 resumed; {links}; 0 alert notices\n"
        "sweep: refresh from Qwoty queued\n"  # the first sweep of an interval (QWOTY_REFRESH_MINUTES)
    )
    assert run("qwoty_sweep") == f"sweep: 0 stale, 0 overdue re-queued, 0 resumed; {links}; 0 alert notices\n"


@task()
def broken_task() -> None:
    raise RuntimeError("this task always fails")


def test_qwoty_worker_writes_each_result_in_its_next_claim_transaction(pulled):
    """The threads only run tasks; the dispatcher stores their outcomes with its next claim, as db_worker would."""
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Through the pool"})
    broken_task.enqueue()
    gone = broken_task.enqueue()
    DBTaskResult.objects.filter(pk=gone.id).update(task_path="tests.removed_module.removed_task")  # code since deleted
    claimed = qwoty_worker._write_and_claim([], ["default"], "worker-1", limit=8)
    assert len(claimed) == 3
    finished, places = queue.SimpleQueue(), qwoty_worker.Places(capacity=3)
    places.take(len(claimed))
    for db_task in claimed:
        qwoty_worker._run(db_task, finished, places)
    running = DBTaskResult.objects.values_list("status", "worker_ids", "started_at")
    assert [(status, worker_ids) for status, worker_ids, _ in running] == [("RUNNING", ["worker-1"])] * 3
    assert all(started_at for *_, started_at in running)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"RUNNING"}  # not written yet
    assert qwoty_worker._write_and_claim(qwoty_worker._take_all(finished), ["default"], "worker-1", limit=8) == []
    results = {row.task_path.rsplit(".", 1)[1]: row for row in DBTaskResult.objects.all()}
    assert (results["push_record"].status, results["push_record"].return_value) == ("SUCCESSFUL", "pushed")
    assert results["broken_task"].status == "FAILED"
    assert results["broken_task"].exception_class_path == "builtins.RuntimeError"
    assert "this task always fails" in results["broken_task"].traceback
    assert results["removed_task"].status == "FAILED"
    assert results["removed_task"].exception_class_path == "builtins.ModuleNotFoundError"
    assert places.free == 3  # each run gave its place back
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Through the pool"}]


def test_the_dispatcher_claims_a_whole_batch_once_that_many_places_are_free():
    places = qwoty_worker.Places(capacity=8)  # 4 threads: 4 running, 4 waiting behind them
    assert places.wait_for(4, timeout=0)  # idle: room for two batches
    places.take(7)
    assert not places.wait_for(4, timeout=0.01)  # 1 free place: no round for a single task
    give_back = [threading.Timer(0.05 * n, places.give_back) for n in (1, 2, 3)]
    for timer in give_back:
        timer.start()
    assert places.wait_for(4, timeout=5)  # wakes when the third push ends, not before
    assert places.free == 4


def test_a_result_the_database_refuses_is_logged_and_the_others_are_still_written(pulled, monkeypatch, caplog):
    broken_task.enqueue()
    broken_task.enqueue()
    refused, accepted = qwoty_worker._write_and_claim([], ["default"], "worker-1", limit=8)
    finished = queue.SimpleQueue()
    for db_task in (refused, accepted):
        qwoty_worker._run(db_task, finished, qwoty_worker.Places(capacity=0))
    write = qwoty_worker._write_results

    def refuse_one(done):
        if refused in done:
            raise DatabaseError("invalid byte sequence")  # as PostgreSQL says of a NUL in a traceback
        write(done)

    monkeypatch.setattr(qwoty_worker, "_write_results", refuse_one)
    qwoty_worker._write_each(qwoty_worker._take_all(finished))
    assert DBTaskResult.objects.get(pk=accepted.pk).status == "FAILED"  # its result, written
    assert DBTaskResult.objects.get(pk=refused.pk).status == "RUNNING"  # left as a killed worker leaves it
    assert f"Could not write the result of task {refused.id}" in caplog.text


def test_qwoty_worker_claims_no_task_of_a_target_it_holds_back_but_one_probe_when_due(pulled, settings):
    settings.QWOTY_CIRCUIT_FAILURES = 2
    settings.QWOTY_RETRY_BASE_SECONDS = 1
    for contact in Contact.objects.order_by("pk")[:3]:
        link_save(link=new_link(contact, "prioticket"), user=None)  # a push_link task each
    catalog_update(catalog=Catalog.objects.first(), user=None, data={"name": "Not held"})  # a push_record task
    broken_task.enqueue()  # a task that calls no target
    clock = [1000.0]
    circuits = circuit.Circuits(clock=lambda: clock[0])
    for _ in range(2):
        circuits.feed(reports.Report(target=Target.PRIOTICKET, failure=UpstreamConnectionError("Connection refused")))

    def claim() -> list[str]:
        claimed = qwoty_worker._write_and_claim([], ["default"], "worker-1", limit=8, circuits=circuits)
        return sorted(
            " ".join([row.task_path.rsplit(".", 1)[1], *map(str, row.args_kwargs["args"][:1])]) for row in claimed
        )

    assert claim() == ["broken_task", "push_record catalogs"]  # Prioticket's pushes left in the queue
    assert claim() == []
    clock[0] += 10  # its probe is due: one of its tasks, and one only
    assert claim() == ["push_link prioticket"]
    assert circuits[Target.PRIOTICKET].probing
    clock[0] += 10
    assert claim() == []  # the probe has not reported yet
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    circuits.feed(reports.Report(target=Target.PRIOTICKET))  # it went through: all of them again
    assert claim() == ["push_link prioticket", "push_link prioticket"]


def test_a_failed_probe_marks_the_target_held_again_once_the_sweep_dropped_the_mark():
    """The sweep drops a mark no failed call renewed for a while (`recovery.held_targets`); a worker still holding
    the target says so again with its next failed probe."""
    circuits = circuit.Circuits()
    down = UpstreamConnectionError("Connection refused")

    def ended(failure=None, *, probe=False) -> DBTaskResult:
        db_task = DBTaskResult()
        db_task.report = reports.Report(target=Target.PRIOTICKET, failure=failure)
        if probe:
            db_task.probe_of = Target.PRIOTICKET
            circuits[Target.PRIOTICKET].start_probe()
        return db_task

    qwoty_worker._follow(circuits, [ended(down) for _ in range(5)])  # QWOTY_CIRCUIT_FAILURES: it opens
    held = TargetState.objects.filter(target=Target.PRIOTICKET, failing_since__isnull=False)
    assert held.get().failing_reason == "Connection refused"
    held.update(failing_since=None, failing_reason="")  # as the sweep drops a stale mark
    qwoty_worker._follow(circuits, [ended(down, probe=True)])
    assert held.get().failing_reason == "Connection refused"
    qwoty_worker._follow(circuits, [ended(probe=True)])
    assert not held.exists()
