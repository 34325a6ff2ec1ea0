"""The push pages: pending & failed with retry, the managers' push log, resuming a paused target."""

import csv
import io
import json

import pytest
from django.urls import reverse

from backoffice.sync import connectors, targets
from backoffice.sync.models import PushAttempt, SyncStatus, Target, TargetState
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.links import link_save, new_link
from contacts.models import Contact
from contacts.services import contact_update
from sandbox import KOYWE_TOKEN
from tests.conftest import TEST_TOKEN
from tests.factories import manager_user, sales_ops_user, support_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failed_catalog(pulled, drain):
    catalog = Catalog.objects.first()
    pulled.faults(script=[{"status": 422, "error": "api_name is already taken"}])
    catalog_update(catalog=catalog, user=None, data={"api_name": "taken"})
    drain()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.FAILED
    return catalog


def test_queue_shows_failed_records_with_the_upstream_reason(client, failed_catalog):
    client.force_login(sales_ops_user())
    page = client.get(reverse("sync:queue")).content.decode()
    assert "api_name is already taken" in page
    assert reverse("sync:retry", args=["catalogs", failed_catalog.pk]) in page


def test_retry_pushes_again_after_the_cause_is_gone(client, failed_catalog, drain):
    client.force_login(sales_ops_user())
    catalog_update(catalog=failed_catalog, user=None, data={"api_name": "free"})  # an edit also re-queues
    drain()
    failed_catalog.refresh_from_db()
    assert failed_catalog.sync_status == SyncStatus.SYNCED

    contact = Contact.objects.first()
    contact_update(contact=contact, user=None, data={"first_name": "Retried"})
    TargetState.objects.all().delete()
    Contact.objects.filter(pk=contact.pk).update(sync_status=SyncStatus.FAILED, sync_error="Service unavailable")
    response = client.post(reverse("sync:retry", args=["contacts", contact.pk]), {"next": "/sync/"})
    assert response.status_code == 302
    assert response["Location"] == "/sync/"
    drain()
    contact.refresh_from_db()
    assert contact.sync_status == SyncStatus.SYNCED


def test_retry_all_only_touches_what_the_user_may_change(client, failed_catalog):
    contact = Contact.objects.first()
    Contact.objects.filter(pk=contact.pk).update(sync_status=SyncStatus.FAILED)
    client.force_login(support_user())
    client.post(reverse("sync:retry-all"))
    assert Contact.objects.get(pk=contact.pk).sync_status == SyncStatus.PENDING
    assert Catalog.objects.get(pk=failed_catalog.pk).sync_status == SyncStatus.FAILED  # Support cannot edit catalogs
    assert client.post(reverse("sync:retry", args=["catalogs", failed_catalog.pk])).status_code == 403


def test_retry_rejects_get_and_unknown_entities(client, failed_catalog):
    client.force_login(sales_ops_user())
    assert client.get(reverse("sync:retry", args=["catalogs", failed_catalog.pk])).status_code == 405
    assert client.post(reverse("sync:retry", args=["quotes", failed_catalog.pk])).status_code == 404


def test_push_log_filters_by_entity_and_outcome_and_never_shows_the_token(client, failed_catalog, drain):
    contact = Contact.objects.first()
    contact_update(contact=contact, user=None, data={"first_name": "Logged"})
    drain()
    client.force_login(manager_user())
    url = reverse("sync:attempt-list")
    everything = client.get(url).content.decode()
    assert "api_name is already taken" in everything
    assert "Logged" in everything
    assert TEST_TOKEN not in everything

    rejected = client.get(url, {"resource": "catalogs", "outcome": "invalid"}).content.decode()
    assert str(failed_catalog.pk) in rejected
    assert str(contact.pk) not in rejected
    fragment = client.get(url, {"resource": "contacts", "outcome": "ok"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert str(contact.pk) in fragment.content.decode()


def test_push_log_pages_with_a_keyset(client, pulled, drain):
    for n, catalog in enumerate(Catalog.objects.all()[:5]):
        catalog_update(catalog=catalog, user=None, data={"reference": f"PAGE-{n}"})
    drain()
    from backoffice.pushlog.selectors import push_attempt_list

    first = push_attempt_list(per_page=3)
    second = push_attempt_list(per_page=3, before=first.next_before)
    ids = [row.attempt.id for row in first.rows + second.rows]
    assert ids == list(PushAttempt.objects.order_by("-id").values_list("id", flat=True))
    assert second.next_before is None


def test_push_log_is_for_managers_only(client, pulled):
    for user in (support_user(), sales_ops_user()):
        client.force_login(user)
        assert client.get(reverse("sync:attempt-list")).status_code == 403
        assert client.post(reverse("sync:resume")).status_code == 403


def test_a_manager_resumes_a_paused_target_in_one_click(client, pulled, drain):
    pulled.faults(token="qwoty_rotated")
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "After resume"})
    drain()
    assert targets.target_state().paused
    client.force_login(manager_user())
    assert "Resume pushing" in client.get(reverse("sync:queue")).content.decode()

    pulled.faults(token=TEST_TOKEN)
    client.post(reverse("sync:resume"))
    assert not targets.target_state().paused
    drain()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.SYNCED


def test_refresh_from_qwoty_and_resolve_a_conflict_from_the_browser(client, pulled, drain):
    catalog = Catalog.objects.first()
    client.force_login(sales_ops_user())
    catalog_update(catalog=catalog, user=None, data={"name": "Ours"})
    pulled.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Theirs"})

    response = client.post(reverse("sync:refresh", args=["catalogs", catalog.pk]), follow=True)
    assert "choose which values to keep" in response.content.decode()
    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.CONFLICT

    client.post(reverse("sync:resolve", args=["catalogs", catalog.pk]), {"keep": "upstream"})
    catalog.refresh_from_db()
    assert (catalog.name, catalog.sync_status) == ("Theirs", SyncStatus.SYNCED)


def test_support_cannot_refresh_or_resolve_catalogs(client, pulled):
    catalog = Catalog.objects.first()
    client.force_login(support_user())
    assert client.post(reverse("sync:refresh", args=["catalogs", catalog.pk])).status_code == 403
    assert client.post(reverse("sync:resolve", args=["catalogs", catalog.pk]), {"keep": "local"}).status_code == 403


@pytest.fixture
def failed_link(pulled, drain):
    """A contact linked to Prioticket, which refused it."""
    contact = Contact.objects.order_by("pk").first()
    connectors.get("prioticket").client().auth.token()  # so the scripted answer is the PUT's, not the token's
    pulled.faults(script=[{"status": 400, "error": "contact_email is not a valid email"}])
    link = link_save(link=new_link(contact, "prioticket"), user=None)
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.FAILED
    return link


def test_the_queue_lists_failed_links_with_their_target_and_retry_for_sales_ops_only(client, failed_link, drain):
    client.force_login(support_user())
    page = client.get(reverse("sync:queue")).content.decode()
    assert "contact_email is not a valid email" in page
    assert "Prioticket" in page
    retry_url = reverse("contact-link-retry", args=[failed_link.contact_id, "prioticket"])
    assert retry_url not in page
    assert client.post(retry_url).status_code == 403

    client.force_login(sales_ops_user())
    assert retry_url in client.get(reverse("sync:queue")).content.decode()
    assert client.post(retry_url, {"next": "/sync/"})["Location"] == "/sync/"
    drain()
    failed_link.refresh_from_db()
    assert failed_link.sync_status == SyncStatus.SYNCED


def test_retry_all_includes_failed_links(client, failed_link):
    client.force_login(sales_ops_user())
    client.post(reverse("sync:retry-all"))
    failed_link.refresh_from_db()
    assert failed_link.sync_status == SyncStatus.PENDING


def test_a_paused_secondary_target_shows_on_every_page_and_a_manager_resumes_it(client, pulled, drain, settings):
    settings.KOYWE_API_TOKEN = "koywe_revoked"
    contact = Contact.objects.order_by("pk").first()
    Contact.objects.filter(pk=contact.pk).update(phone=None)
    link = new_link(Contact.objects.get(pk=contact.pk), "koywe")
    link.country_symbol = "CL"
    link_save(link=link, user=None)
    drain()
    assert targets.target_state(Target.KOYWE).paused
    assert not targets.target_state(Target.QWOTY).paused

    client.force_login(sales_ops_user())
    assert "Pushing to Koywe is paused." in client.get(reverse("dashboard")).content.decode()
    client.force_login(manager_user())
    assert "Resume pushing to Koywe" in client.get(reverse("sync:queue")).content.decode()

    settings.KOYWE_API_TOKEN = KOYWE_TOKEN
    client.post(reverse("sync:resume"), {"target": "koywe"})
    assert not targets.target_state(Target.KOYWE).paused
    drain()
    link.refresh_from_db()
    assert link.sync_status == SyncStatus.SYNCED
    assert "Pushing to Koywe is paused." not in client.get(reverse("dashboard")).content.decode()


def test_the_push_log_filters_by_target(client, failed_link):
    catalog_update(catalog=Catalog.objects.first(), user=None, data={"name": "Logged"})
    client.force_login(manager_user())
    page = client.get(reverse("sync:attempt-list"), {"target": "prioticket"}).content.decode()
    assert "contact_email is not a valid email" in page
    assert "/api/catalogs/" not in page


def test_the_push_log_takes_any_date_the_picker_allows(client, pulled):
    client.force_login(manager_user())
    assert client.get(reverse("sync:attempt-list"), {"until": "9999-12-31"}).status_code == 200


def test_support_settles_a_conflict_on_contact_details_but_not_on_external_ids(client, pulled):
    contact = Contact.objects.order_by("pk").first()
    url = reverse("sync:resolve", args=["contacts", contact.pk])
    client.force_login(support_user())

    conflict = {"id_crm": {"local": "CRM-OURS", "upstream": "CRM-THEIRS"}}
    Contact.objects.filter(pk=contact.pk).update(sync_status=SyncStatus.CONFLICT, sync_conflict=conflict)
    assert client.post(url, {"keep": "upstream"}).status_code == 403
    assert Contact.objects.get(pk=contact.pk).sync_status == SyncStatus.CONFLICT

    conflict = {"first_name": {"local": "Ours", "upstream": contact.first_name}}
    Contact.objects.filter(pk=contact.pk).update(sync_conflict=conflict, first_name="Ours")
    assert client.post(url, {"keep": "upstream"}).status_code == 302
    assert Contact.objects.get(pk=contact.pk).sync_status != SyncStatus.CONFLICT


def test_a_bad_push_log_filter_leaves_the_others_applied(client, pulled, drain):
    catalog_update(catalog=Catalog.objects.first(), user=None, data={"name": "Logged"})
    contact_update(contact=Contact.objects.first(), user=None, data={"first_name": "Logged"})
    drain()
    client.force_login(manager_user())
    page = client.get(reverse("sync:attempt-list"), {"resource": "catalogs", "record_id": "abc"}).content.decode()
    assert "Enter a valid UUID" in page
    assert "/api/catalogs/" in page
    assert "/api/contacts/" not in page


def test_records_in_conflict_are_listed_as_waiting_for_a_choice(client, pulled):
    catalog = Catalog.objects.first()
    conflict = {"name": {"local": "Ours", "upstream": "Theirs"}}
    Catalog.objects.filter(pk=catalog.pk).update(sync_status=SyncStatus.CONFLICT, sync_conflict=conflict)
    client.force_login(sales_ops_user())
    page = client.get(reverse("sync:queue")).content.decode()
    assert "In conflict" in page
    assert reverse("catalog-detail", args=[catalog.pk]) in page
    assert "All caught up" not in page  # its edits have not reached Qwoty
    assert "Nothing else is waiting" in page


def test_the_push_log_names_each_record(client, pulled, drain):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Named in the log"})
    drain()
    client.force_login(manager_user())
    page = client.get(reverse("sync:attempt-list")).content.decode()
    assert f'title="{catalog.pk}">Named in the log</a>' in page


def export_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="push-log-')
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_push_log_exports_as_filtered_as_csv_with_formulas_neutralised(client, pulled, drain, monkeypatch):
    monkeypatch.setattr("backoffice.pushlog.selectors.EXPORT_CHUNK", 2)  # several chunks, none lost or repeated
    catalogs = list(Catalog.objects.order_by("pk")[:3])
    for n, catalog in enumerate(catalogs):
        catalog_update(catalog=catalog, user=manager_user(), data={"name": f'=HYPERLINK("http://evil/{n}")'})
    contact_update(contact=Contact.objects.first(), user=None, data={"first_name": "Not exported"})
    pulled.faults(script=[{"status": 422, "error": "-2+3 is not a reference"}])
    drain()
    client.force_login(manager_user())

    rows = export_rows(
        client.get(reverse("sync:attempt-export", args=["csv"]), {"resource": "catalogs", "before": "1"})
    )
    expected = PushAttempt.objects.filter(resource="catalogs").order_by("-id")
    assert [int(row["attempt"]) for row in rows] == list(expected.values_list("attempt", flat=True))
    assert [row["record id"] for row in rows] == [str(pk) for pk in expected.values_list("record_id", flat=True)]
    assert {row["entity"] for row in rows} == {"catalogs"}  # the filter applies; `before` (a page) does not
    names = {row["record"] for row in rows}
    assert names >= {'\'=HYPERLINK("http://evil/1")', '\'=HYPERLINK("http://evil/2")'}  # text, not formulas
    assert "'-2+3 is not a reference" in {row["error"] for row in rows}
    assert all(json.loads(row["request body"])["name"].startswith("=HYPERLINK") for row in rows)
    assert TEST_TOKEN not in json.dumps(rows)


def test_the_push_log_exports_as_json_with_the_same_filters(client, pulled, drain):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=manager_user(), data={"name": "Sent as JSON"})
    contact_update(contact=Contact.objects.first(), user=None, data={"first_name": "Not exported"})
    drain()
    client.force_login(manager_user())

    response = client.get(reverse("sync:attempt-export", args=["json"]), {"record_id": str(catalog.pk)})
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="push-log-')
    calls = json.loads(b"".join(response.streaming_content))
    assert [(call["entity"], call["record_id"], call["record"]) for call in calls] == [
        ("catalogs", str(catalog.pk), "Sent as JSON")
    ]
    assert calls[0]["request_body"] == {"name": "Sent as JSON"}  # data, not text
    assert calls[0]["status"] == 200
    empty = client.get(reverse("sync:attempt-export", args=["json"]), {"resource": "customers"})
    assert json.loads(b"".join(empty.streaming_content)) == []


@pytest.mark.parametrize("format", ["csv", "json"])
def test_the_push_log_export_is_for_managers_only(client, pulled, format):
    for user in (support_user(), sales_ops_user()):
        client.force_login(user)
        assert client.get(reverse("sync:attempt-export", args=[format])).status_code == 403
