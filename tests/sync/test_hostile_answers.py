"""Hostile or broken answers, from the sandbox (security review #19, finding 4): nested too deep to decode, far
longer than any the APIs give, trickled a byte at a time. Each ends its call as a typed error stored as an
attempt, the record (or link) failed or retried as any other failure; none leaves it pushing, fills the
worker's memory or outlasts the call's deadline."""

import time
import tracemalloc

import pytest

from backoffice.sync import connectors, links, push, targets
from backoffice.sync.models import PushAttempt, SyncStatus
from catalogs.models import Catalog
from catalogs.services import catalog_update
from contacts.models import Contact
from tests.sync.test_links import VALID_CL_PHONE, link_koywe, link_prioticket, set_phone

pytestmark = pytest.mark.django_db(transaction=True)

TARGETS = ["qwoty", "prioticket", "koywe"]


def ready_to_push(target: str, sandbox):
    """A record (Qwoty) or a link (Prioticket, Koywe) with a change to send: the push to run, and its row as it
    is now."""
    if target == "qwoty":
        catalog = Catalog.objects.order_by("pk").first()
        catalog_update(catalog=catalog, user=None, data={"name": "Hostile"})
        return lambda: push.push_now("catalogs", catalog.pk), lambda: Catalog.objects.get(pk=catalog.pk)
    contact = set_phone(Contact.objects.exclude(email=None).order_by("pk").first(), VALID_CL_PHONE, sandbox)
    link = {"prioticket": link_prioticket, "koywe": link_koywe}[target](contact, None)
    connectors.get(target).client().auth.token()  # Prioticket's: the hostile answer is the PUT's, not the token's
    model = connectors.get(target).model
    return lambda: links.push_now(target, link.pk), lambda: model.objects.get(pk=link.pk)


@pytest.mark.parametrize("target", TARGETS)
def test_an_answer_nested_too_deep_to_decode_fails_the_push_and_is_stored(pulled, target):
    push_it, row = ready_to_push(target, pulled)
    pulled.faults(script=[{"hostile": "deep_json"}])  # "[" * 100000: RecursionError in json.loads

    assert push_it() == targets.FAILED

    assert row().sync_status == SyncStatus.FAILED
    attempt = PushAttempt.objects.get(target=target)
    assert (attempt.status, attempt.error_kind) == (200, "bad_response")
    assert attempt.response_body.startswith("[[[[")


@pytest.mark.parametrize("target", TARGETS)
def test_an_error_nested_too_deep_to_decode_is_retried(pulled, target):
    push_it, row = ready_to_push(target, pulled)
    pulled.faults(script=[{"hostile": "deep_json", "status": 503}])

    assert push_it() == targets.RETRYING

    assert (row().sync_status, row().push_attempts) == (SyncStatus.PENDING, 1)
    assert PushAttempt.objects.get(target=target).status == 503


@pytest.mark.parametrize("chunked", [False, True], ids=["with-length", "chunked"])
@pytest.mark.parametrize("target", TARGETS)
def test_an_answer_past_the_cap_is_refused_unread(pulled, target, chunked):
    push_it, row = ready_to_push(target, pulled)
    pulled.faults(script=[{"hostile": "huge", "size": 32 * 1024 * 1024, "chunked": chunked}])

    tracemalloc.start()
    try:
        outcome = push_it()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert outcome == targets.FAILED
    assert peak < 8 * 1024 * 1024  # of a 32 MiB answer: read no further than the cap
    assert row().sync_status == SyncStatus.FAILED
    attempt = PushAttempt.objects.get(target=target)
    assert attempt.error_kind == "bad_response"
    assert "is longer than 1024 KiB: not read" in attempt.error_message
    assert len(attempt.response_body) <= 4000


@pytest.mark.parametrize("target", TARGETS)
def test_a_trickled_answer_ends_at_the_calls_deadline(pulled, settings, target):
    settings.QWOTY_CALL_DEADLINE_SECONDS = 1
    push_it, row = ready_to_push(target, pulled)
    pulled.faults(script=[{"hostile": "trickle", "byte_ms": 20}])  # each byte well within the read timeout

    started = time.monotonic()
    assert push_it() == targets.RETRYING
    assert time.monotonic() - started < 2.5

    assert row().sync_status == SyncStatus.PENDING
    attempt = PushAttempt.objects.get(target=target)
    assert attempt.error_kind == "timeout"
    assert "took longer than the 1 s a call may last" in attempt.error_message


@pytest.mark.parametrize("target", TARGETS)
def test_a_long_answer_is_stored_cut_with_a_marker(pulled, target):
    push_it, _ = ready_to_push(target, pulled)
    pulled.faults(script=[{"hostile": "huge", "size": 512 * 1024}])

    assert push_it() == targets.PUSHED

    stored = PushAttempt.objects.get(target=target).response_body
    assert len(stored) < 65 * 1024
    assert stored.endswith(" characters, the first 65536 kept]")
