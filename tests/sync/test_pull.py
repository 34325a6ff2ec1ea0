"""qwoty_pull and the merge of upstream objects into local records."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from backoffice.audit.models import Change
from backoffice.sync import mirror as mirrors
from backoffice.sync.conflicts import KEEP_UPSTREAM, resolve_conflict
from backoffice.sync.edits import StaleEdit
from backoffice.sync.models import SyncStatus
from backoffice.sync.pull import CONFLICT, UNCHANGED, UPDATED, apply_upstream, pull_record
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact
from customers.models import Customer, TaxId

pytestmark = pytest.mark.django_db


def pull(*args) -> str:
    out = io.StringIO()
    call_command("qwoty_pull", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_pull_imports_every_object_with_its_fields(sandbox):
    output = pull()
    upstream_customers = sandbox.api("GET", "customers", params={"per_page": 200}).json()["data"]
    upstream_contacts = sandbox.api("GET", "contacts", params={"per_page": 200}).json()["data"]
    assert Customer.objects.count() == len(upstream_customers) == 25
    assert Contact.objects.count() == len(upstream_contacts)
    assert Catalog.objects.count() == 12
    assert f"{25 + len(upstream_contacts) + 12} created" in output

    upstream = upstream_customers[3]
    customer = Customer.objects.get(pk=upstream["id"])
    assert mirrors.get("customers").values(customer) == mirrors.get("customers").upstream_values(upstream)
    assert [t.as_upstream() for t in customer.tax_ids.all()] == upstream["tax_ids"]
    assert sorted(str(pk) for pk in customer.contacts.values_list("pk", flat=True)) == sorted(upstream["contact_ids"])
    assert customer.last_synced == upstream
    assert customer.sync_status == SyncStatus.SYNCED


def test_second_pull_changes_nothing(sandbox):
    pull()
    before = {c.pk: (c.last_synced_at, c.version) for c in Customer.objects.all()}
    tax_rows = list(TaxId.objects.order_by("pk").values_list("pk", "tax_value", "position"))
    output = pull()
    total = Customer.objects.count() + Contact.objects.count() + Catalog.objects.count()
    assert f"0 created, 0 updated, {total} unchanged, 0 conflict, 0 failed" in output
    assert {c.pk: (c.last_synced_at, c.version) for c in Customer.objects.all()} == before
    assert list(TaxId.objects.order_by("pk").values_list("pk", "tax_value", "position")) == tax_rows


def test_pull_applies_upstream_changes(sandbox):
    pull()
    catalog = Catalog.objects.first()
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Changed upstream", "is_active": False})
    output = pull("--only", "catalogs")
    assert "1 updated" in output
    catalog.refresh_from_db()
    assert (catalog.name, catalog.is_active, catalog.sync_status) == ("Changed upstream", False, SyncStatus.SYNCED)


def test_pull_reorders_and_replaces_tax_ids(sandbox):
    pull()
    customer = Customer.objects.filter(tax_ids__isnull=False).distinct().first()
    kept = customer.tax_ids.first()
    new_list = [{"tax": "SIREN", "tax_value": "732829320"}, kept.as_upstream()]
    sandbox.api("PATCH", f"customers/{customer.pk}", json={"tax_ids": new_list})
    pull("--only", "customers")
    assert [t.as_upstream() for t in customer.tax_ids.all()] == new_list
    assert customer.tax_ids.get(tax_value=kept.tax_value).pk == kept.pk  # the row (and its review) survives


def test_local_edit_and_different_upstream_edit_is_a_conflict_not_an_overwrite(sandbox):
    pull()
    catalog = Catalog.objects.first()
    catalog.name = "Local name"
    catalog.reference = "LOCAL-REF"
    catalog.save()
    upstream = sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Upstream name", "description": "New"})

    assert apply_upstream(mirrors.get("catalogs"), upstream.json()["data"], catalog) == CONFLICT
    catalog.refresh_from_db()
    assert catalog.name == "Local name"  # never silently overwritten
    assert catalog.description == "New"  # upstream-only change applied
    assert catalog.reference == "LOCAL-REF"  # local-only change kept, still to push
    assert catalog.sync_status == SyncStatus.CONFLICT
    assert catalog.sync_conflict == {"name": {"local": "Local name", "upstream": "Upstream name"}}


def test_same_change_on_both_sides_is_not_a_conflict(sandbox):
    pull()
    catalog = Catalog.objects.first()
    catalog.name = "Same"
    catalog.save()
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Same"})
    assert pull_record(catalog) == UPDATED
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED
    assert pull_record(catalog) == UNCHANGED


def test_pull_retries_transient_failures(sandbox):
    sandbox.faults(script=[{"status": 503}, {"status": 429, "retry_after": 0}, {"drop": True}])
    output = pull("--only", "catalogs")
    assert "12 created" in output
    assert [r["status"] for r in sandbox.received("GET")][:4] == [503, 429, None, 200]


def test_pull_with_wrong_token_fails_with_one_clear_line(settings):
    settings.QWOTY_API_TOKEN = "qwoty_not_the_right_one"
    with pytest.raises(CommandError, match=r"^Qwoty refused the token \(Invalid API token\); check QWOTY_API_TOKEN\.$"):
        pull()
    assert Customer.objects.count() == 0


def test_pull_with_wrong_url_says_so(sandbox_server):
    with pytest.raises(CommandError, match=r"No Qwoty API at .*/nope .*check QWOTY_API_URL"):
        pull("--url", sandbox_server.base_url + "/nope")


def test_pull_from_unreachable_upstream_says_so():
    with pytest.raises(CommandError, match=r"^Cannot reach Qwoty: Could not reach Qwoty at http://127\.0\.0\.1:9/api"):
        pull("--url", "http://127.0.0.1:9/api")


def test_a_copy_older_than_ours_is_not_news(sandbox):
    """A pull reads a page, then a push's answer lands before the pull applies that page's copy of the record."""
    pull()
    catalog = Catalog.objects.first()
    read_by_the_pull = {**catalog.last_synced, "name": "Before our push"}
    Catalog.objects.filter(pk=catalog.pk).update(
        name="Pushed", last_synced={**catalog.last_synced, "name": "Pushed", "updated_at": "2099-01-01T00:00:00.000Z"}
    )
    assert apply_upstream(mirrors.get("catalogs"), read_by_the_pull, catalog) == UNCHANGED
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status) == ("Pushed", SyncStatus.SYNCED)  # neither reverted nor in conflict


def test_a_record_whose_push_is_in_flight_is_left_to_its_answer(sandbox):
    pull()
    catalog = Catalog.objects.first()
    held = catalog.last_synced
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.PUSHING, name="Being pushed")
    changed = {**held, "name": "Being pushed", "updated_at": "2099-01-01T00:00:00.000Z"}
    assert apply_upstream(mirrors.get("catalogs"), changed, catalog) == UNCHANGED
    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.last_synced) == (SyncStatus.PUSHING, held)  # its answer will bring it


@pytest.mark.parametrize("stamp", ["2026-03-01T10:00:00Z", None], ids=["same second", "no updated_at"])
def test_a_copy_read_before_our_push_was_answered_is_not_news_whatever_qwotys_clock(sandbox, stamp):
    """Qwoty's `updated_at` may be coarse (its API promises no precision) or missing: our clock decides."""
    pull()
    catalog = Catalog.objects.first()

    def stamped(copy: dict) -> dict:
        copy = {key: value for key, value in copy.items() if key != "updated_at"}
        return copy if stamp is None else {**copy, "updated_at": stamp}

    read_at = timezone.now()
    read_by_the_pull = stamped(catalog.last_synced)
    pushed = stamped({**catalog.last_synced, "name": "Pushed"})  # our push's answer, applied after the read
    Catalog.objects.filter(pk=catalog.pk).update(name="Pushed", last_synced=pushed, last_synced_at=timezone.now())
    assert apply_upstream(mirrors.get("catalogs"), read_by_the_pull, catalog, read_at=read_at) == UNCHANGED
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status) == ("Pushed", SyncStatus.SYNCED)

    renamed = stamped({**pushed, "name": "Renamed in Qwoty"})  # read after: news
    assert apply_upstream(mirrors.get("catalogs"), renamed, catalog, read_at=timezone.now()) == UPDATED
    catalog.refresh_from_db()
    assert catalog.name == "Renamed in Qwoty"


def test_a_conflict_outlives_later_refreshes_and_taking_qwotys_takes_its_latest_value(sandbox):
    pull()
    catalog = Catalog.objects.first()
    catalog.name = "Ours"
    catalog.save()
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Theirs"})
    assert pull_record(catalog) == CONFLICT
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"description": "Changed in Qwoty meanwhile"})
    assert pull_record(catalog) == CONFLICT
    catalog.refresh_from_db()
    assert catalog.sync_conflict == {"name": {"local": "Ours", "upstream": "Theirs"}}
    assert catalog.description == "Changed in Qwoty meanwhile"
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Theirs, later"})
    assert pull_record(catalog) == CONFLICT
    catalog.refresh_from_db()
    assert catalog.sync_conflict == {"name": {"local": "Ours", "upstream": "Theirs, later"}}

    resolved = resolve_conflict(record=catalog, user=None, keep=KEEP_UPSTREAM)
    assert (resolved.name, resolved.sync_status) == ("Theirs, later", SyncStatus.SYNCED)


def test_a_conflict_recorded_without_its_fields_takes_every_field_of_ours_from_qwoty(sandbox):
    """As refreshes left them before they kept the conflict's fields."""
    pull()
    catalog = Catalog.objects.first()
    upstream_name = catalog.name
    Catalog.objects.filter(pk=catalog.pk).update(name="Ours", sync_status=SyncStatus.CONFLICT, sync_conflict=None)
    resolved = resolve_conflict(record=Catalog.objects.get(pk=catalog.pk), user=None, keep=KEEP_UPSTREAM)
    assert (resolved.name, resolved.sync_status) == (upstream_name, SyncStatus.SYNCED)


def test_a_refresh_that_changes_a_field_moves_the_version_and_is_in_the_history(sandbox):
    pull()
    catalog = Catalog.objects.first()
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Renamed in Qwoty"})
    assert pull_record(catalog) == UPDATED
    assert Catalog.objects.get(pk=catalog.pk).version == catalog.version + 1
    change = Change.objects.get(record_id=catalog.pk)
    assert (change.from_qwoty, change.user, change.changes) == (
        True,
        None,
        {"name": [catalog.name, "Renamed in Qwoty"]},
    )
    with pytest.raises(StaleEdit):  # an edit form, or an import, opened before the refresh
        catalog_update(catalog=catalog, user=None, data={"name": "Mine"}, expected_version=catalog.version)


def test_a_conflict_qwoty_settles_by_taking_our_value_leaves_the_rest_of_ours_to_push(sandbox, task_queue):
    pull()
    catalog = Catalog.objects.first()
    Catalog.objects.filter(pk=catalog.pk).update(  # edited, not pushed: its push backing off
        name="Ours", description="Our description", push_attempts=3, next_push_at=timezone.now() + timedelta(hours=1)
    )
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Theirs"})
    assert pull_record(catalog) == CONFLICT
    sandbox.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Ours"})  # someone in Qwoty took our name
    assert pull_record(catalog) == UPDATED
    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.sync_conflict, catalog.push_attempts) == (SyncStatus.PENDING, None, 0)
    assert catalog.next_push_at <= timezone.now()  # due now, as after a staff edit
    assert [(task.name, task.args) for task in task_queue.tasks()] == [("push_record", ("catalogs", str(catalog.pk)))]
