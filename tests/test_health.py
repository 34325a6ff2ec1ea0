"""GET /healthz reports the database and the upstream."""

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    """A logged-in staff member: they see the reasons behind each boolean."""
    client.force_login(django_user_model.objects.create_user("ops", password="ops-password-2026"))
    return client


def test_healthz_is_ok_when_database_and_upstream_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == {"ok": True}
    assert body["upstream"]["ok"] is True


def test_healthz_reports_upstream_down_but_stays_200(staff_client, sandbox_server):
    sandbox_server.faults(outage=True)
    response = staff_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["upstream"] == {"ok": False, "error": "Service unavailable", "status": 503}


def test_healthz_is_503_without_a_database(staff_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("backoffice.health.connection.cursor", broken_cursor)
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False}  # no session can be read without it: booleans only


def test_anonymous_callers_get_booleans_only(client, django_user_model, settings):
    settings.QWOTY_API_URL = "http://qwoty-internal.invalid:9/api"
    anonymous = client.get("/healthz")
    assert anonymous.json() == {"ok": True, "database": {"ok": True}, "upstream": {"ok": False}}
    assert "qwoty-internal" not in anonymous.content.decode()

    client.force_login(django_user_model.objects.create_user("ops", password="ops-password-2026"))
    assert "qwoty-internal.invalid" in client.get("/healthz").json()["upstream"]["error"]  # staff see why


def test_healthz_never_reveals_the_token(staff_client, settings):
    settings.QWOTY_API_TOKEN = "qwoty_revoked_secret_123"
    response = staff_client.get("/healthz")
    assert response.json()["upstream"]["status"] == 401
    assert "qwoty_revoked_secret_123" not in response.content.decode()


def test_healthz_asks_qwoty_at_most_once_in_a_while(client, sandbox_server):
    for _ in range(5):
        assert client.get("/healthz").json()["upstream"]["ok"] is True
    assert len(sandbox_server.received("GET")) == 1  # anonymous callers cannot spend our rate limit


def test_healthz_hides_a_token_put_in_the_upstream_url(staff_client, settings):
    settings.QWOTY_API_URL = f"http://user:{settings.QWOTY_API_TOKEN}@127.0.0.1:9/api"
    response = staff_client.get("/healthz")
    assert response.json()["upstream"]["ok"] is False
    assert settings.QWOTY_API_TOKEN not in response.content.decode()
    assert "Could not reach Qwoty at http://[REDACTED]@127.0.0.1:9/api" in response.json()["upstream"]["error"]
