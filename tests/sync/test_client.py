"""The Qwoty client against the sandbox over real HTTP: one exception per failure kind."""

import pytest
import requests

from backoffice.sync.http.errors import (
    UnsafePath,
    UpstreamConnectionError,
    UpstreamForbidden,
    UpstreamInvalid,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from backoffice.sync.http.transport import parse_retry_after
from backoffice.sync.qwoty import QwotyClient

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def client():
    return QwotyClient()


def first(client, resource):
    return client.list_page(resource, page=1, per_page=1).data[0]


def test_get_returns_the_envelope_data(client):
    catalog = first(client, "catalogs")
    response = client.get("catalogs", catalog["id"])
    assert response.status == 200
    assert response.data == catalog
    assert response.duration_ms >= 0


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(tmp_path, monkeypatch, settings):
    host = requests.utils.urlparse(settings.QWOTY_API_URL).hostname
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert first(QwotyClient(), "catalogs")["id"]  # the sandbox answers 401 to any other credentials


def test_proxy_settings_from_the_environment_are_honoured(monkeypatch, settings):
    """They are read once, when the client is made; a proxy that is not there makes every call fail."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(UpstreamConnectionError):
        QwotyClient().list_page("catalogs", per_page=1)
    host = requests.utils.urlparse(settings.QWOTY_API_URL).hostname
    monkeypatch.setenv("NO_PROXY", host)
    assert first(QwotyClient(), "catalogs")["id"]


def test_list_page_carries_pagination(client):
    response = client.list_page("customers", page=1, per_page=10)
    assert len(response.data) == 10
    assert response.body["pagination"]["total"] == 25
    assert response.body["pagination"]["total_pages"] == 3


def test_patch_returns_the_full_updated_object(client, sandbox):
    catalog = first(client, "catalogs")
    response = client.patch("catalogs", catalog["id"], {"name": "Renamed"})
    assert response.data["name"] == "Renamed"
    assert response.data["api_name"] == catalog["api_name"]
    assert sandbox.received("PATCH")[-1]["body"] == {"name": "Renamed"}


def test_invalid_body_raises_invalid_with_the_upstream_message(client):
    contact = first(client, "contacts")
    with pytest.raises(UpstreamInvalid) as caught:
        client.patch("contacts", contact["id"], {"role": ["boss"]})
    assert caught.value.status == 422
    assert caught.value.message == "Invalid role: boss"


def test_unknown_field_is_invalid(client):
    catalog = first(client, "catalogs")
    with pytest.raises(UpstreamInvalid, match="Unknown field: colour") as caught:
        client.patch("catalogs", catalog["id"], {"colour": "red"})
    assert caught.value.status == 400


@pytest.mark.parametrize("object_id", ["..", ".", "../customers", "x/../..", "1", ""])
@pytest.mark.parametrize("method", ["get", "patch"])
def test_an_id_that_is_not_a_uuid_never_reaches_the_url(client, sandbox_server, method, object_id):
    # Qwoty's ids are UUIDs: `catalogs/..` would be sent as GET /api/, with our token, to whatever answers there.
    call = getattr(client, method)
    with pytest.raises(UnsafePath, match="Not a Qwoty id"):
        call("catalogs", object_id, *([{"name": "x"}] if method == "patch" else []))
    assert not sandbox_server.received()


def test_an_unknown_resource_never_reaches_the_url(client, sandbox_server):
    with pytest.raises(UnsafePath, match="Not a Qwoty resource"):
        client.list_page("../admin")
    assert not sandbox_server.received()


def test_unknown_id_raises_not_found(client):
    with pytest.raises(UpstreamNotFound, match="Catalog not found"):
        client.get("catalogs", UNKNOWN_ID)


def test_wrong_token_raises_unauthorized():
    with pytest.raises(UpstreamUnauthorized, match="Invalid API token") as caught:
        QwotyClient(token="qwoty_wrong").list_page("catalogs")
    assert caught.value.status == 401
    assert not caught.value.retryable


def test_403_raises_forbidden(client, sandbox_server):
    sandbox_server.faults(script=[{"status": 403, "error": "Token lacks catalogs:write"}])
    with pytest.raises(UpstreamForbidden, match="Token lacks catalogs:write"):
        client.list_page("catalogs")


def test_429_raises_rate_limited_with_retry_after(client, sandbox_server):
    sandbox_server.faults(script=[{"status": 429, "retry_after": 7}])
    with pytest.raises(UpstreamRateLimited) as caught:
        client.list_page("catalogs")
    assert caught.value.retry_after == 7
    assert caught.value.retryable


def test_5xx_raises_unavailable(client, sandbox_server):
    sandbox_server.faults(script=[{"status": 503}])
    with pytest.raises(UpstreamUnavailable) as caught:
        client.list_page("catalogs")
    assert caught.value.status == 503
    assert caught.value.retryable


def test_dropped_connection_raises_connection_error(client, sandbox_server):
    sandbox_server.faults(script=[{"drop": True}])
    with pytest.raises(UpstreamConnectionError) as caught:
        client.list_page("catalogs")
    assert caught.value.status is None
    assert caught.value.retryable


def test_slow_answer_raises_timeout(sandbox_server):
    sandbox_server.faults(latency_ms=600)
    with pytest.raises(UpstreamTimeout):
        QwotyClient(read_timeout=0.2).list_page("catalogs")


def test_nothing_listening_raises_connection_error():
    with pytest.raises(UpstreamConnectionError, match="Could not reach Qwoty"):
        QwotyClient(base_url="http://127.0.0.1:9/api", connect_timeout=0.5).list_page("catalogs")


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_errors_do_not_carry_the_request_or_its_token(client, sandbox_server):
    sandbox_server.faults(script=[{"drop": True}])
    with pytest.raises(UpstreamConnectionError) as caught:
        client.list_page("catalogs")
    cause = caught.value.__cause__
    assert isinstance(cause, requests.ConnectionError)
    assert cause.request is None
