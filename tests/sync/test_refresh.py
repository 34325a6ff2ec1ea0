"""The scheduled refresh from Qwoty: queued by the sweep once per interval, run by the real worker, shown on the
dashboard; upstream changes are applied and a field also edited here becomes a conflict."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from backoffice.sync import refresh
from backoffice.sync.models import RefreshRun, SyncStatus
from backoffice.sync.qwoty import QwotyClient, QwotyResponse
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact
from customers.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime.fromisoformat("2026-12-05T12:00:00+00:00")


def test_the_sweep_queues_one_refresh_per_interval(pulled, task_queue, settings):
    settings.QWOTY_REFRESH_MINUTES = 15
    assert refresh.schedule_if_due(now=NOON) is not None
    assert refresh.schedule_if_due(now=NOON + timedelta(minutes=14)) is None  # same interval: queued already
    assert refresh.schedule_if_due(now=NOON + timedelta(minutes=15)) is not None
    assert [task.name for task in task_queue.tasks()] == ["refresh_from_qwoty", "refresh_from_qwoty"]
    assert RefreshRun.objects.count() == 2


def test_no_refresh_is_queued_when_it_is_off(pulled, task_queue, settings):
    settings.QWOTY_REFRESH_MINUTES = 0
    assert refresh.schedule_if_due(now=NOON) is None
    assert task_queue.tasks() == []


def test_the_sweep_command_queues_the_refresh(pulled, task_queue, settings):
    settings.QWOTY_REFRESH_MINUTES = 15
    out = io.StringIO()
    call_command("qwoty_sweep", stdout=out)
    assert "refresh from Qwoty queued" in out.getvalue()
    assert [task.name for task in task_queue.tasks()] == ["refresh_from_qwoty"]


def test_a_refresh_applies_qwotys_changes_and_raises_a_conflict_over_an_unpushed_edit(pulled):
    changed, edited = Catalog.objects.order_by("pk")[:2]
    pulled.api("PATCH", f"catalogs/{changed.pk}", json={"name": "Renamed in Qwoty"}).raise_for_status()
    pulled.api("PATCH", f"catalogs/{edited.pk}", json={"name": "Theirs"}).raise_for_status()
    catalog_update(catalog=edited, user=None, data={"name": "Ours"})  # pending: no worker runs here

    run = refresh.schedule_if_due()
    assert refresh.run_refresh(run.pk) == RefreshRun.DONE

    run.refresh_from_db()
    assert run.counts["updated"] == 1
    assert run.counts["conflict"] == 1
    everything = Customer.objects.count() + Contact.objects.count() + Catalog.objects.count()
    assert run.counts["unchanged"] == everything - 2
    assert Catalog.objects.get(pk=changed.pk).name == "Renamed in Qwoty"
    edited.refresh_from_db()
    assert (edited.name, edited.sync_status) == ("Ours", SyncStatus.CONFLICT)  # not overwritten: staff choose
    assert edited.sync_conflict["name"] == {"local": "Ours", "upstream": "Theirs"}
    assert refresh.run_refresh(run.pk) == "taken"  # a duplicate task pulls nothing twice


def test_the_worker_runs_the_queued_refresh(pulled, drain):
    catalog = Catalog.objects.order_by("pk").first()
    pulled.api("PATCH", f"catalogs/{catalog.pk}", json={"reference": "FROM-QWOTY"}).raise_for_status()
    run = refresh.schedule_if_due()
    drain()
    run.refresh_from_db()
    assert run.status == RefreshRun.DONE
    assert (run.started_at is not None, run.finished_at is not None) == (True, True)
    assert Catalog.objects.get(pk=catalog.pk).reference == "FROM-QWOTY"


def test_a_refresh_while_qwoty_is_down_fails_with_the_reason_and_changes_nothing(pulled, settings):
    settings.QWOTY_RETRY_BASE_SECONDS = 0.001
    pulled.faults(outage=True)
    run = refresh.schedule_if_due()
    assert refresh.run_refresh(run.pk) == RefreshRun.FAILED
    run.refresh_from_db()
    assert run.error == "Service unavailable"
    assert not Catalog.objects.exclude(sync_status=SyncStatus.SYNCED).exists()


@pytest.mark.parametrize("odd", [{"id": "not-a-uuid", "name": "x"}, "a string", {"name": "no id"}])
def test_an_odd_object_in_a_page_is_counted_failed_and_the_refresh_goes_on(pulled, monkeypatch, odd):
    list_page = QwotyClient.list_page

    def with_an_odd_object(self, resource, **kwargs):
        response = list_page(self, resource, **kwargs)
        if resource == "customers" and kwargs.get("page") == 1:
            return QwotyResponse(response.status, {**response.body, "data": [odd, *response.body["data"]]}, 0)
        return response

    monkeypatch.setattr(QwotyClient, "list_page", with_an_odd_object)
    pulled.api("PATCH", f"catalogs/{Catalog.objects.first().pk}", json={"name": "After the odd customer"})
    run = refresh.schedule_if_due()
    assert refresh.run_refresh(run.pk) == RefreshRun.DONE
    run.refresh_from_db()
    assert run.counts["failed"] == 1
    assert Catalog.objects.filter(name="After the odd customer").exists()  # the resources after it were pulled


def test_a_refresh_that_breaks_is_told_failed_not_left_running(pulled, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("an answer nobody foresaw")

    monkeypatch.setattr(refresh, "pull_resource", broken)
    run = refresh.schedule_if_due()
    with pytest.raises(RuntimeError):  # the task fails too, so its traceback is kept
        refresh.run_refresh(run.pk)
    run.refresh_from_db()
    assert (run.status, run.error) == (RefreshRun.FAILED, "RuntimeError: an answer nobody foresaw")
    assert run.finished_at is not None


def test_the_dashboard_shows_the_last_refresh_and_its_counts(client, pulled, settings):
    client.force_login(factories.sales_ops_user())
    assert "Every 15 minutes" in client.get(reverse("dashboard")).content.decode()

    run = refresh.schedule_if_due()
    refresh.run_refresh(run.pk)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="last-refresh"' in page
    everything = Customer.objects.count() + Contact.objects.count() + Catalog.objects.count()
    assert f"0 updated, 0 new, {everything} unchanged" in page

    pulled.faults(outage=True)
    settings.QWOTY_RETRY_BASE_SECONDS = 0.001
    settings.QWOTY_REFRESH_MINUTES = 1
    failed = RefreshRun.objects.create(slot=run.slot + 1_000_000)
    refresh.run_refresh(failed.pk)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Failed" in page
    assert "Service unavailable" in page
