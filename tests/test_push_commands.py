"""qwoty_push and qwoty_sweep, the operators' handles on the push layer."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from catalogs.services import catalog_update

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
    assert run("qwoty_sweep") == "sweep: 1 stale, 0 overdue re-queued, 0 resumed\n"
