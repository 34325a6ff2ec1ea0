"""A secret an upstream echoes in a body, spelt with JSON escapes (\\u0026 for &, any character as \\uXXXX), is
neither stored nor shown: not on the contact's link card (Support sees it), the push log, the admin, nor in a
failed task's stored traceback. The sandbox plays the hostile upstream (`escape`, `echo_credentials`)."""

import html
import json
import queue
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from backoffice.management.commands import qwoty_worker
from backoffice.redaction import REDACTED
from backoffice.sync import connectors, links, push
from backoffice.sync.models import PushAttempt, SyncStatus, Target
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact, KoyweLink
from sandbox import KOYWE_TOKEN
from tests.conftest import TEST_TOKEN
from tests.factories import manager_user, superuser, support_user
from tests.sync.test_links import link_koywe, link_prioticket, set_phone

pytestmark = pytest.mark.django_db(transaction=True)

# The review's example: a Koywe token with characters Go's JSON encoder writes as \u0026, \u003c and \u003e.
KOYWE_SECRET = "koy_Live&Secret<42>"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def reveals(secret: str, text: str) -> bool:
    """Whether `text` (a stored body, a page) shows `secret`, as is, HTML-escaped or spelt with JSON escapes."""
    text = html.unescape(text)
    return secret in text or secret in _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def pages_reveal(client, secret: str, attempt: PushAttempt) -> list[str]:
    """The pages that show `attempt` and reveal `secret`: the record's page (as Support for a contact, whose link
    card lists the calls), the push log (Managers) and the admin's page of the call."""
    reader = support_user() if attempt.resource == "contacts" else manager_user()  # Support sees no catalogs
    pages = [
        (reader, reverse(f"{attempt.resource[:-1]}-detail", args=[attempt.record_id])),
        (manager_user(), reverse("sync:attempt-list")),
        (superuser(), reverse("admin:sync_pushattempt_change", args=[attempt.pk])),
    ]
    shown = []
    for user, url in pages:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        if reveals(secret, response.content.decode()):
            shown.append(url)
    return shown


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("sam", password="x")


@pytest.fixture
def contact(pulled):
    contact = Contact.objects.exclude(email=None).order_by("pk").first()
    return set_phone(contact, None, pulled)  # nothing Koywe's checks would refuse before sending


@pytest.fixture
def koywe_refusal(contact, drain, staff, pulled, settings):
    """Koywe refused a contact with a 422 that echoes our token, written as Go's encoding/json writes it."""
    settings.KOYWE_API_TOKEN = KOYWE_SECRET
    pulled.faults(escape="html", echo_credentials=True, script=[{"status": 422, "error": "email: is taken"}])
    link_koywe(contact, staff)
    drain()
    attempt = PushAttempt.objects.get(target=Target.KOYWE)
    assert (attempt.status, KoyweLink.objects.get().sync_status) == (422, SyncStatus.FAILED)
    return attempt


def test_a_koywe_refusal_echoing_the_token_in_json_escapes_is_stored_and_shown_redacted(client, koywe_refusal):
    assert not reveals(KOYWE_SECRET, koywe_refusal.response_body)
    assert json.loads(koywe_refusal.response_body) == {
        "statusCode": 422,
        "message": "email: is taken",
        "token": REDACTED,
    }
    assert pages_reveal(client, KOYWE_SECRET, koywe_refusal) == []


def test_a_prioticket_refusal_echoing_the_access_token_fully_escaped_is_stored_and_shown_redacted(
    client, contact, drain, staff, pulled
):
    token = connectors.get("prioticket").client().auth.token()  # the scripted answer is the PUT's
    pulled.faults(escape="all", echo_credentials=True, script=[{"status": 400, "error": "contact_email is taken"}])
    link_prioticket(contact, staff)
    drain()
    attempt = PushAttempt.objects.get(target=Target.PRIOTICKET)
    assert attempt.status == 400
    assert not reveals(token, attempt.response_body)
    assert json.loads(attempt.response_body)["token"] == REDACTED
    assert pages_reveal(client, token, attempt) == []


def test_a_qwoty_refusal_echoing_the_token_fully_escaped_is_stored_and_shown_redacted(client, pulled):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Echoed"})
    pulled.faults(escape="all", echo_credentials=True, script=[{"status": 422, "error": "name is taken"}])
    push.push_now("catalogs", catalog.pk)
    attempt = PushAttempt.objects.get(record_id=catalog.pk)
    assert attempt.status == 422
    assert not reveals(TEST_TOKEN, attempt.response_body)
    assert pages_reveal(client, TEST_TOKEN, attempt) == []


def test_bodies_stored_before_their_escapes_were_decoded_are_redacted_on_screen(client, koywe_refusal):
    """Rows written before this fix hold the raw text, whole or cut short, and requests may hold a secret."""
    escaped = json.dumps({"statusCode": 422, "token": KOYWE_SECRET}).replace("&", "\\u0026").replace("<", "\\u003c")
    PushAttempt.objects.filter(pk=koywe_refusal.pk).update(response_body=escaped, request_body={"note": KOYWE_SECRET})
    cut_short = PushAttempt.objects.get(pk=koywe_refusal.pk)
    cut_short.pk, cut_short.response_body = None, escaped[:-3]
    cut_short.save()
    assert pages_reveal(client, KOYWE_SECRET, koywe_refusal) == []
    assert pages_reveal(client, KOYWE_SECRET, cut_short) == []


def _run_with_db_worker(drain) -> None:
    drain()


def _run_with_qwoty_worker(drain) -> None:
    claimed = qwoty_worker._write_and_claim([], ["default"], "worker-1", limit=8)
    finished, places = queue.SimpleQueue(), qwoty_worker.Places(capacity=len(claimed))
    places.take(len(claimed))
    for db_task in claimed:
        qwoty_worker._run(db_task, finished, places)
    qwoty_worker._write_and_claim(qwoty_worker._take_all(finished), ["default"], "worker-1", limit=8)


@pytest.mark.parametrize("run_worker", [_run_with_db_worker, _run_with_qwoty_worker], ids=["db_worker", "qwoty_worker"])
def test_a_failed_tasks_stored_traceback_holds_no_secret_its_exception_quoted(
    contact, drain, staff, pulled, monkeypatch, run_worker
):
    def misread(connector, response):  # a bug that quotes the whole answer, which echoes our token
        raise RuntimeError(f"answer not understood: {response.body}")

    monkeypatch.setattr(links, "_kept", misread)
    pulled.faults(echo_credentials=True)
    link_koywe(contact, staff)
    run_worker(drain)
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "RuntimeError: answer not understood" in failed.traceback
    assert REDACTED in failed.traceback
    assert KOYWE_TOKEN not in failed.traceback


def test_a_task_failure_quoting_no_secret_is_stored_as_raised(monkeypatch):
    def broken(target, link_id):
        raise ValueError(f"no link {link_id}")

    monkeypatch.setattr(links, "push_now", broken)
    with pytest.raises(ValueError, match="no link 7"):
        links.push_link.call("koywe", 7)
