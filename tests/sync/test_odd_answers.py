"""Answers the sandbox never gives, from a real HTTP server that misbehaves on purpose: a redirect, a body
cut off, a 2xx without the object, a Retry-After of a year. None may lose an edit or leave a record stuck."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from backoffice.sync import push, targets
from backoffice.sync.http.errors import UpstreamBadResponse, UpstreamConnectionError
from backoffice.sync.models import PushAttempt, SyncStatus
from backoffice.sync.qwoty import QwotyClient
from catalogs.models import Catalog
from catalogs.services import catalog_update

ANY_ID = "00000000-0000-4000-8000-000000000001"


class OddUpstream:
    """Answers every request with `answer` (status, headers, raw body); keeps what it received."""

    def __init__(self):
        self.answer = (200, {}, b"{}")
        self.received: list[tuple[str, str, bytes]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.received.append((self.command, self.path, body))
                status, headers, raw = upstream.answer
                self.send_response(status)
                for name, value in {"Content-Length": str(len(raw)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw[: int(headers.get("X-Cut-At", len(raw)))])
                self.close_connection = True

            do_GET = do_PATCH = do_PUT = do_POST = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def odd():
    upstream = OddUpstream()
    yield upstream
    upstream.stop()


def test_a_redirect_is_not_followed_and_says_where_it_pointed(odd):
    odd.answer = (301, {"Location": "https://qwoty.example/api/catalogs/1"}, b"")
    with pytest.raises(UpstreamBadResponse, match=r"redirected the call to https://qwoty.example/api/catalogs/1"):
        QwotyClient(base_url=odd.url).patch("catalogs", ANY_ID, {"name": "kept"})
    assert [(method, body) for method, _, body in odd.received] == [("PATCH", b'{"name": "kept"}')]


def test_an_answer_cut_off_mid_body_is_a_connection_error(odd):
    body = json.dumps({"success": True, "data": {"id": "x", "name": "long " * 100}}).encode()
    odd.answer = (200, {"X-Cut-At": "20"}, body)
    with pytest.raises(UpstreamConnectionError, match="could not be read"):
        QwotyClient(base_url=odd.url).get("catalogs", ANY_ID)


@pytest.mark.parametrize(
    "body",
    [
        {"success": True, "data": None},
        {"success": True, "data": []},
        {"success": True, "data": {"id": "whatever"}},
    ],
    ids=["null", "a-list", "missing-fields"],
)
def test_a_success_without_the_object_fails_the_record_and_keeps_the_edit(pulled, odd, settings, body):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Kept here"})
    settings.QWOTY_API_URL = odd.url
    odd.answer = (200, {}, json.dumps(body).encode())

    assert push.push_now("catalogs", catalog.pk) == targets.FAILED

    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.name) == (SyncStatus.FAILED, "Kept here")
    assert "not the whole catalog" in catalog.sync_error
    assert PushAttempt.objects.get(record_id=catalog.pk).error_kind == "bad_response"


@pytest.mark.parametrize("depth", [200, 950])
def test_an_object_nested_deep_inside_fails_the_record_instead_of_being_stored(pulled, odd, settings, depth):
    # Decodable, unlike "[" * 100000, but json.dumps recurses too: storing it raised RecursionError mid-push.
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Kept here"})
    settings.QWOTY_API_URL = odd.url
    id_crm = catalog.id_crm
    data = {**catalog.last_synced, "name": "Kept here", "id_crm": "@"}
    body = json.dumps({"success": True, "data": data}).replace('"@"', "[" * depth + "]" * depth)
    odd.answer = (200, {}, body.encode())

    assert push.push_now("catalogs", catalog.pk) == targets.FAILED

    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.id_crm) == (SyncStatus.FAILED, id_crm)
    assert PushAttempt.objects.get(record_id=catalog.pk).error_kind == "bad_response"


def test_a_redirected_push_fails_the_record_instead_of_syncing_old_values(pulled, odd, settings):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Kept here"})
    settings.QWOTY_API_URL = odd.url
    odd.answer = (302, {"Location": "/api2/catalogs"}, b"")

    push.push_now("catalogs", catalog.pk)

    catalog.refresh_from_db()
    assert (catalog.sync_status, catalog.name) == (SyncStatus.FAILED, "Kept here")
    assert "QWOTY_API_URL" in catalog.sync_error


@pytest.mark.parametrize("retry_after", ["99999999999999", "inf", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_retry_after_beyond_the_cap_waits_the_cap(pulled, odd, settings, retry_after):
    catalog = Catalog.objects.first()
    catalog_update(catalog=catalog, user=None, data={"name": "Later"})
    settings.QWOTY_API_URL = odd.url
    odd.answer = (429, {"Retry-After": retry_after}, b'{"success": false, "error": "Slow down"}')

    assert push.push_now("catalogs", catalog.pk) == targets.RETRYING

    catalog.refresh_from_db()
    assert catalog.sync_status == SyncStatus.PENDING
    assert catalog.next_push_at <= timezone.now() + timedelta(seconds=settings.QWOTY_RETRY_MAX_SECONDS + 1)
