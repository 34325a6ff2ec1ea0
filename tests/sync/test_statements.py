"""The push layer's hand-written statements store what the ORM would, and honour their conditions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from backoffice.sync import statements
from backoffice.sync.models import PushAttempt, SyncStatus, TargetState
from catalogs.models import Catalog
from tests.factories import CatalogFactory, sales_ops_user

pytestmark = pytest.mark.django_db


def test_update_stores_each_type_as_the_orm_reads_it_back():
    catalog = CatalogFactory(is_active=True)
    when = datetime(2026, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)
    snapshot = {"id": str(catalog.pk), "name": "Été 2026", "tags": [1, None, "x"], "nested": {"a": True}}
    values = {
        "name": "Été 2026",
        "description": None,  # a cleared value
        "is_active": False,
        "last_synced": snapshot,
        "next_push_at": when,
        "push_attempts": 3,
        "sync_status": SyncStatus.PENDING,
    }
    assert statements.update(Catalog, catalog.pk, values) == 1
    stored = Catalog.objects.get(pk=catalog.pk)
    assert {name: getattr(stored, name) for name in values} == values


def test_update_takes_a_string_primary_key_as_tasks_pass_it():
    catalog = CatalogFactory()
    assert statements.update(Catalog, str(catalog.pk), {"name": "From a task"}) == 1
    assert Catalog.objects.get(pk=catalog.pk).name == "From a task"


def test_update_changes_nothing_when_its_condition_does_not_hold():
    catalog, other = CatalogFactory(name="Kept"), CatalogFactory(name="Other")
    now = timezone.now()
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.PENDING, next_push_at=now + timedelta(hours=1))
    due = {
        "where": "{sync_status} = %s AND ({next_push_at} IS NULL OR {next_push_at} <= %s)",
        "params": (("sync_status", SyncStatus.PENDING), ("next_push_at", now)),
    }
    assert statements.update(Catalog, catalog.pk, {"name": "Too early"}, **due) == 0
    Catalog.objects.filter(pk=catalog.pk).update(next_push_at=now - timedelta(seconds=1))
    assert statements.update(Catalog, catalog.pk, {"name": "Due"}, **due) == 1
    assert Catalog.objects.get(pk=catalog.pk).name == "Due"
    assert Catalog.objects.get(pk=other.pk).name == "Other"  # only the row of that primary key


def test_insert_stores_every_field_and_fills_auto_now_add():
    user = sales_ops_user()
    catalog = CatalogFactory()
    before = timezone.now()
    statements.insert(
        PushAttempt(
            resource="catalogs",
            record_id=catalog.pk,
            method="PATCH",
            url="http://sandbox/catalogs/x",
            request_body={"name": "N", "description": None},
            status=200,
            response_body='{"data": {}}',
            duration_ms=51,
            attempt=2,
            user=user,
        )
    )
    (stored,) = PushAttempt.objects.all()
    assert stored.pk is not None
    assert (stored.record_id, stored.request_body, stored.status, stored.user, stored.attempt) == (
        catalog.pk,
        {"name": "N", "description": None},
        200,
        user,
        2,
    )
    assert before <= stored.created_at <= timezone.now()


def test_select_for_update_gives_aware_datetimes_and_none_for_a_missing_row():
    slot = datetime(2026, 11, 30, 8, 0, 0, 250000, tzinfo=UTC)
    TargetState.objects.create(target="qwoty", paused=True, next_slot_at=slot)
    with transaction.atomic():
        row = statements.select_for_update(TargetState, "qwoty", ("paused", "next_slot_at", "paused_at"))
        missing = statements.select_for_update(TargetState, "nowhere", ("paused",))
    assert row == {"paused": True, "next_slot_at": slot, "paused_at": None}
    assert row["next_slot_at"].utcoffset() == timedelta(0)
    assert missing is None
