"""The record row is the outbox, whichever queue runs the pushes: on Redis (RQ) a push is queued once its
edit commits, an edit saved while Redis is down loses nothing, and a job Redis lost is found by the sweep."""

from datetime import timedelta

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.sync import recovery
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from catalogs.services import catalog_update
from tests import factories
from tests.queues import use_queue
from tests.ui.test_record_pages import opened_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def task_queue(settings):
    return use_queue("rq", settings)


@pytest.fixture
def redis_down(monkeypatch):
    """Redis refuses connections (the queue's settings point at a closed port), as when it is restarting."""
    monkeypatch.setitem(django_rq.settings.QUEUES, "default", {"URL": "redis://127.0.0.1:9/0"})


def patches(sandbox) -> list[dict]:
    return [p["body"] for p in sandbox.received("PATCH")]


def test_a_push_is_queued_on_redis_only_once_its_edit_commits(pulled, task_queue, drain):
    catalog = Catalog.objects.first()
    with transaction.atomic():
        catalog_update(catalog=catalog, user=None, data={"name": "After commit"})
        assert task_queue.tasks() == []  # a worker would find the edit not saved yet
    assert [task.name for task in task_queue.tasks()] == ["push_record"]
    drain()
    assert patches(pulled) == [{"name": "After commit"}]


def test_a_rolled_back_edit_queues_nothing_on_redis(pulled, task_queue):
    catalog = Catalog.objects.first()
    with transaction.atomic():
        catalog_update(catalog=catalog, user=None, data={"name": "Never"})
        transaction.set_rollback(True)
    assert task_queue.tasks() == []


def test_an_edit_saved_while_redis_is_down_is_kept_and_pushed_once_the_sweep_finds_it(
    client, pulled, task_queue, drain, redis_down, monkeypatch, settings, caplog
):
    catalog = Catalog.objects.first()
    client.force_login(factories.sales_ops_user())
    response = client.post(reverse("catalog-update", args=[catalog.pk]), opened_form(catalog, name="Saved anyway"))
    assert response.status_code == 302  # the staff member's save succeeds: no 500
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status) == ("Saved anyway", SyncStatus.PENDING)
    assert "the sweep will queue it again" in caplog.text

    monkeypatch.undo()  # Redis is back
    assert task_queue.tasks() == []  # the job was never queued
    assert recovery.sweep()["overdue"] == 0  # not overdue yet: its push may still be on its way
    Catalog.objects.filter(pk=catalog.pk).update(
        next_push_at=timezone.now() - timedelta(seconds=settings.QWOTY_PUSH_STALE_SECONDS + 1)
    )
    assert recovery.sweep()["overdue"] == 1
    drain()
    assert patches(pulled) == [{"name": "Saved anyway"}]
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


def test_a_retry_is_not_run_before_its_time(pulled, task_queue, drain):
    """RQ keeps a delayed job's time in whole seconds: a retry must not run early and find its record not due."""
    pulled.faults(script=[{"status": 503}])
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Retried"})
    drain()
    assert [p["status"] for p in pulled.received("PATCH")] == [503, 200]


def test_the_database_workers_refuse_to_run_on_the_redis_queue(settings):
    settings.TASKS_BACKEND = "rq"
    with pytest.raises(CommandError, match="rqworker-pool default"):
        call_command("qwoty_worker")
