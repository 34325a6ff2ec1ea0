"""Repeated failed logins lock out that username from that address (django-axes); every page carries a CSP."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def log_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, address: str = "10.0.0.1") -> None:
    """`times` wrong passwords; the one that reaches the limit is answered with the lockout."""
    for attempt in range(1, times + 1):
        response = log_in(client, username, "wrong-password", address)
        if attempt < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        else:
            assert response.status_code == 429


def test_the_limit_of_failed_logins_locks_out_even_the_right_password(client, settings):
    user = factories.sales_ops_user()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT)
    response = log_in(client, user.username, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock_and_a_success_resets_the_count(client, settings):
    user = factories.sales_ops_user()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, user.username, factories.PASSWORD).status_code == 302
    client.logout()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)  # counted afresh
    assert log_in(client, user.username, factories.PASSWORD).status_code == 302


def test_a_lockout_holds_one_username_from_one_address(client, settings):
    locked, colleague = factories.sales_ops_user(), factories.sales_ops_user()
    fail(client, locked.username, settings.AXES_FAILURE_LIMIT)
    assert log_in(Client(), colleague.username, factories.PASSWORD).status_code == 302  # same office address
    assert log_in(Client(), locked.username, factories.PASSWORD, address="10.0.0.2").status_code == 302
    assert log_in(Client(), locked.username, factories.PASSWORD).status_code == 429


def test_the_lockout_lifts_after_the_cool_off(client, settings):
    user = factories.sales_ops_user()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT)
    assert log_in(client, user.username, factories.PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert log_in(client, user.username, factories.PASSWORD).status_code == 302


def test_the_admin_login_is_locked_out_too(client, settings):
    admin = factories.superuser()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": admin.username, "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    response = client.post(
        "/admin/login/", {"username": admin.username, "password": factories.PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429


@pytest.mark.parametrize("path", [LOGIN, "/", "/customers/", "/admin/"])
def test_every_page_carries_a_content_security_policy_without_inline_code(client, path):
    client.force_login(factories.superuser())
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
