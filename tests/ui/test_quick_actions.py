"""Quick actions staff use most: role chips, the catalog active switch, bulk actions with a confirmation."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from backoffice.audit.models import Change
from backoffice.sync.edits import UnresolvedConflict
from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from contacts import services as contact_services
from contacts.models import Contact
from contacts.services import contact_set_role
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def support_user():
    return factories.support_user(first_name="Sue", last_name="Support")


@pytest.fixture
def support(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def sales(client):
    client.force_login(factories.sales_ops_user())
    return client


def toggle(client, contact, role: str, present: bool):
    return client.post(
        reverse("contact-roles", args=[contact.pk]),
        {"role": role, "present": "true" if present else "false"},
        headers=HTMX,
    )


# -- role chips -----------------------------------------------------------------------------------


def test_support_gives_a_role_with_one_click(support, support_user):
    contact = factories.ContactFactory(role=["buyer"])
    response = toggle(support, contact, "billing", True)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-pressed="true" title="Take the Billing role"' in html
    assert f'id="sync-{contact.pk}" class="badge badge-pending" hx-swap-oob="true"' in html
    assert response["HX-Trigger"] == "sync-changed"
    contact.refresh_from_db()
    assert (contact.role, contact.sync_status) == (["buyer", "billing"], SyncStatus.PENDING)
    assert Change.objects.get(record_id=contact.pk).user == support_user
    assert DBTaskResult.objects.count() == 1  # the push is queued


def test_a_chip_says_the_state_it_wants_so_a_double_click_changes_nothing_more(support):
    contact = factories.ContactFactory(role=[])
    toggle(support, contact, "legal", True)
    toggle(support, contact, "legal", True)
    contact.refresh_from_db()
    assert contact.role == ["legal"]
    assert Change.objects.filter(record_id=contact.pk).count() == 1


def test_a_chip_keeps_a_role_someone_else_gave_meanwhile(support):
    contact = factories.ContactFactory(role=["buyer"])
    contact_set_role(contact=contact, user=None, role="legal", present=True)  # another tab, another person
    toggle(support, contact, "buyer", False)  # this page still showed [buyer]
    contact.refresh_from_db()
    assert contact.role == ["legal"]


def test_chips_are_locked_while_the_contact_is_in_conflict(support):
    contact = factories.ContactFactory(role=["buyer"])
    Contact.objects.filter(pk=contact.pk).update(
        sync_status=SyncStatus.CONFLICT, sync_conflict={"role": {"local": ["buyer"], "upstream": ["admin"]}}
    )
    response = toggle(support, contact, "legal", True)
    assert response.status_code == 409
    assert "locked until the conflict" in response.content.decode()
    contact.refresh_from_db()
    assert contact.role == ["buyer"]


def test_an_unknown_role_is_refused(support):
    contact = factories.ContactFactory(role=[])
    assert toggle(support, contact, "boss", True).status_code == 400


def test_the_contact_list_offers_chips_only_to_those_who_may_change_roles(client):
    factories.ContactFactory(role=["buyer"])
    client.force_login(factories.support_user())
    assert 'aria-pressed="true"' in client.get(reverse("contact-list")).content.decode()
    viewer = factories.UserFactory()
    viewer.user_permissions.add(*_permissions("contacts.view_contact"))
    client.force_login(viewer)
    html = client.get(reverse("contact-list")).content.decode()
    assert "aria-pressed" not in html
    assert '<span class="chip on">Buyer</span>' in html


def _permissions(*dotted):
    from django.contrib.auth.models import Permission

    return [Permission.objects.get(content_type__app_label=d.split(".")[0], codename=d.split(".")[1]) for d in dotted]


# -- catalog active switch ------------------------------------------------------------------------------


def test_the_active_switch_changes_the_catalog_and_answers_its_row(sales):
    catalog = factories.CatalogFactory(is_active=True)
    response = sales.post(reverse("catalog-set-active", args=[catalog.pk]), {"is_active": "false"}, headers=HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith(f'<tr id="catalog-{catalog.pk}">')
    assert 'role="switch" aria-checked="false"' in html
    assert "badge-pending" in html
    catalog.refresh_from_db()
    assert (catalog.is_active, catalog.sync_status) == (False, SyncStatus.PENDING)


# -- bulk actions -------------------------------------------------------------------------------------


def bulk(client, url_name: str, **data):
    return client.post(reverse(url_name), data, headers=HTMX)


def test_bulk_deactivate_says_how_many_change_before_changing_anything(sales):
    active = factories.CatalogFactory.create_batch(2, is_active=True)
    inactive = factories.CatalogFactory(is_active=False)
    disputed = factories.CatalogFactory(is_active=True)
    Catalog.objects.filter(pk=disputed.pk).update(sync_status=SyncStatus.CONFLICT, sync_conflict={})
    ids = [c.pk for c in [*active, inactive, disputed]]

    preview = bulk(sales, "catalog-bulk", ids=ids, action="deactivate").content.decode()
    assert "Deactivate 2 catalogs?" in preview
    assert "1 of the 4 selected is already as asked." in preview
    assert "1 is in conflict with Qwoty and will be left alone." in preview
    assert Catalog.objects.filter(is_active=False).count() == 1
    assert not Change.objects.exists()

    done = bulk(sales, "catalog-bulk", ids=ids, action="deactivate", confirmed="on")
    assert "2 catalogs deactivated." in done.content.decode()
    assert done["HX-Trigger"] == "list-changed"
    assert set(Catalog.objects.filter(is_active=False).values_list("pk", flat=True)) == {
        active[0].pk,
        active[1].pk,
        inactive.pk,
    }
    assert Change.objects.count() == 2  # one history entry per record, through the service
    assert set(Catalog.objects.filter(pk__in=[a.pk for a in active]).values_list("sync_status", flat=True)) == {
        SyncStatus.PENDING
    }


def test_bulk_role_on_contacts(support):
    with_role = factories.ContactFactory(role=["legal"])
    without = factories.ContactFactory.create_batch(3, role=["buyer"])
    ids = [with_role.pk, *[c.pk for c in without]]
    preview = bulk(support, "contact-bulk", ids=ids, action="add_role", role="legal").content.decode()
    assert "Give the Legal role to 3 contacts?" in preview
    bulk(support, "contact-bulk", ids=ids, action="add_role", role="legal", confirmed="on")
    assert all("legal" in c.role for c in Contact.objects.all())
    assert {tuple(c.role) for c in Contact.objects.filter(pk__in=[c.pk for c in without])} == {("buyer", "legal")}


def test_a_bulk_action_is_all_or_nothing(sales, monkeypatch):
    contacts = factories.ContactFactory.create_batch(3, role=[])
    calls = []
    real = contact_services.contact_set_role

    def second_one_in_conflict(**kwargs):
        calls.append(kwargs["contact"].pk)
        if len(calls) == 2:
            raise UnresolvedConflict(kwargs["contact"])
        return real(**kwargs)

    monkeypatch.setattr(contact_services, "contact_set_role", second_one_in_conflict)
    response = bulk(
        sales, "contact-bulk", ids=[c.pk for c in contacts], action="add_role", role="admin", confirmed="on"
    )
    assert response.status_code == 409
    assert "Nothing was changed" in response.content.decode()
    assert all(c.role == [] for c in Contact.objects.all())
    assert not Change.objects.exists()


def test_a_bulk_action_without_selection_says_what_to_do(sales):
    response = bulk(sales, "catalog-bulk", action="activate")
    assert response.status_code == 422
    assert "Select at least one row first." in response.content.decode()


def test_support_cannot_bulk_change_catalogs(support):
    catalog = factories.CatalogFactory(is_active=True)
    response = bulk(support, "catalog-bulk", ids=[catalog.pk], action="deactivate", confirmed="on")
    assert response.status_code == 403
    catalog.refresh_from_db()
    assert catalog.is_active
