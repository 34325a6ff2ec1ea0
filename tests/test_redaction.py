"""Tokens never reach logs, exception messages, stored rows or error pages."""

import json
import logging

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from backoffice.redaction import (
    REDACTED,
    RedactingFilter,
    redact,
    redact_body,
    redact_data,
    redact_headers,
    redact_json,
)
from backoffice.sync.http.errors import UpstreamConnectionError, UpstreamUnauthorized
from backoffice.sync.qwoty import QwotyClient


def test_redact_removes_the_configured_token_and_token_shapes():
    token = settings.QWOTY_API_TOKEN
    assert token not in redact(f"Authorization: Bearer {token}")
    assert redact("key qwoty_abc123 and qwt_prod_XYZ") == f"key {REDACTED} and {REDACTED}"
    assert redact("Bearer abc.def") == f"Bearer {REDACTED}"
    assert redact("nothing secret") == "nothing secret"


def test_redact_headers_hides_credentials():
    headers = redact_headers({"Authorization": "Bearer x", "Content-Type": "application/json"})
    assert headers == {"Authorization": REDACTED, "Content-Type": "application/json"}


def test_logging_filter_redacts_message_arguments_and_tracebacks(caplog):
    token = settings.QWOTY_API_TOKEN
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("calling with %s", token)
            try:
                raise RuntimeError(f"boom {token}")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in (record.exc_text or "")
    assert REDACTED in caplog.text


def test_client_debug_logging_never_shows_the_token(caplog, sandbox_server):
    token = settings.QWOTY_API_TOKEN
    with caplog.at_level(logging.DEBUG):
        QwotyClient().list_page("catalogs")
        with pytest.raises(UpstreamUnauthorized) as caught:
            QwotyClient(token="qwoty_wrong_but_secret").list_page("catalogs")
        sandbox_server.faults(script=[{"drop": True}])
        with pytest.raises(UpstreamConnectionError) as dropped:
            QwotyClient().list_page("catalogs")
    assert caplog.records, "the client should have logged its calls"
    text = caplog.text + str(caught.value) + caught.value.body + str(dropped.value)
    assert token not in text
    assert "qwoty_wrong_but_secret" not in text


def _debug_error_page(request) -> str:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        return ExceptionReporter(request, type(exc), exc, exc.__traceback__).get_traceback_html()


def test_error_page_hides_the_token_setting_and_authorization_header():
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {settings.QWOTY_API_TOKEN}")
    html = _debug_error_page(request)
    assert "QWOTY_API_TOKEN" in html  # the settings table is there...
    assert settings.QWOTY_API_TOKEN not in html  # ...with the value masked


def test_redact_catches_encoded_secrets_and_url_passwords(settings):
    settings.QWOTY_API_TOKEN = "s3cr3t/AbC+dEf=="
    settings.KOYWE_API_TOKEN = "koywe-Secret"
    echoed = "s3cr3t\\/AbC+dEf== s3cr3t%2FAbC%2BdEf%3D%3D koywe-Secret http://u:pw@host/api"
    assert redact(echoed) == f"{REDACTED} {REDACTED} {REDACTED} http://u:{REDACTED}@host/api"


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def test_redact_body_finds_a_secret_behind_any_json_escape(settings):
    settings.KOYWE_API_TOKEN = "koy_Live&Secret<42>"
    html_escaped = '{"token":"koy_Live\\u0026Secret\\u003c42\\u003e"}'
    assert json.loads(redact_body(html_escaped)) == {"token": REDACTED}
    every_character = f'{{"{_escaped("koy_Live&Secret<42>")}": "{_escaped("qwoty_abc")}", "access_token": "x"}}'
    assert json.loads(redact_body(every_character)) == {REDACTED: REDACTED, "access_token": REDACTED}
    cut_short = f'{{"error": "{_escaped("koy_Live&Secret<42>")}", "more": "\\ud83d\\ude00 \\ud800'
    assert "koy_Live" not in redact_body(cut_short)
    assert redact_body(cut_short).endswith('"more": "\U0001f600 \\ud800')  # a lone surrogate stays escaped


def test_a_body_without_secrets_is_stored_as_before():
    body = {"data": {"name": "Société <Acme> & co", "logo": "https://logos.example/a.png", "role": ["buyer"]}}
    assert redact_json(body) == json.dumps(body)
    assert redact_data(body) is body
    assert redact_body('{"name": "Soci\\u00e9t\\u00e9"}') == '{"name": "Soci\\u00e9t\\u00e9"}'


def test_redact_data_scrubs_each_string_and_key(settings):
    settings.KOYWE_API_TOKEN = "koy_Live&Secret<42>"
    body = {"koy_Live&Secret<42>": ["x koy_Live&Secret<42> y", {"auth": "Bearer abc"}], "n": 1, "url": "http://u:p@h"}
    assert redact_data(body) == {
        REDACTED: [f"x {REDACTED} y", {"auth": f"Bearer {REDACTED}"}],
        "n": 1,
        "url": f"http://u:{REDACTED}@h",
    }


def test_djangos_own_loggers_print_each_record_once_and_redacted():
    """Django's default config gives its loggers a console handler of their own: ours must replace it."""
    import subprocess
    import sys

    from tests.test_settings import ROOT

    code = (
        "import django, logging, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'backoffice.config.settings'; "
        "django.setup(); "
        "logging.getLogger('django.request').error('token %s', 'qwt_prod_leaked_123')"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DEBUG": "true"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "qwt_prod_leaked_123" not in result.stderr
    assert result.stderr.count(f"token {REDACTED}") == 1


@pytest.mark.parametrize("padding", [0, 70_000], ids=["usual-body", "past-the-casefold-limit"])
def test_token_shapes_are_found_however_their_letters_are_spelt_in_a_body_of_any_length(padding):
    # re's (?i) reads the long s as an "s" and the Kelvin sign as a "k": so must the cheap check before it.
    body = "é" * padding + '{"acce\u017f\u017f_to\u212aen": "opaque-value-123", "auth": "BEARER abc.def"}'
    redacted = redact(body)
    assert "opaque-value-123" not in redacted
    assert "abc.def" not in redacted
