"""A pull that finds a field changed on both sides: staff keep ours or take Qwoty's; nothing is lost silently."""

import pytest

from backoffice.audit.models import Change
from backoffice.sync.conflicts import KEEP_LOCAL, KEEP_UPSTREAM, resolve_conflict
from backoffice.sync.edits import UnresolvedConflict
from backoffice.sync.models import SyncStatus
from backoffice.sync.pull import pull_record
from catalogs.models import Catalog
from catalogs.services import catalog_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conflicted(pulled):
    """A catalog renamed here (not pushed yet) and renamed differently in Qwoty, then refreshed."""
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Ours", "reference": "OURS-ONLY"})
    pulled.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Theirs"})
    pull_record(catalog)
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.CONFLICT
    pulled.clear_log()
    return catalog


def test_editing_a_record_in_conflict_is_refused_until_resolved(conflicted):
    with pytest.raises(UnresolvedConflict):
        catalog_update(catalog=conflicted, user=None, data={"description": "x"})


def test_taking_upstreams_value_sends_only_what_is_still_ours(conflicted, pulled, drain, django_user_model):
    staff = django_user_model.objects.create_user("res")
    catalog = resolve_conflict(record=conflicted, user=staff, keep=KEEP_UPSTREAM)
    assert (catalog.name, catalog.sync_conflict) == ("Theirs", None)
    assert Change.objects.filter(record_id=catalog.pk, user=staff).get().changes == {"name": ["Ours", "Theirs"]}
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"reference": "OURS-ONLY"}]
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


def test_keeping_ours_overwrites_qwoty(conflicted, pulled, drain):
    catalog = resolve_conflict(record=conflicted, user=None, keep=KEEP_LOCAL)
    assert catalog.sync_status == SyncStatus.PENDING
    drain()
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Ours", "reference": "OURS-ONLY"}]
    assert pulled.api("GET", f"catalogs/{catalog.pk}").json()["data"]["name"] == "Ours"


def test_resolving_rejects_an_unknown_side(conflicted):
    with pytest.raises(ValueError, match="keep must be"):
        resolve_conflict(record=conflicted, user=None, keep="both")
