"""HTTP client for the Qwoty API: one session, timeouts from settings, envelope in, typed errors out.

Every call returns a `QwotyResponse` (status, parsed body, duration) or raises a `QwotyError`
subclass carrying the same facts, so the push layer can store each call whatever its outcome.
The token travels only in the Authorization header: it is never part of a message, a log line
or anything this module returns.
"""

import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils import timezone

from backoffice.redaction import redact, redact_body, redact_url

from .errors import QwotyBadResponse, QwotyConnectionError, QwotyError, QwotyTimeout, error_for_status

logger = logging.getLogger(__name__)

RESOURCES = ("customers", "contacts", "catalogs")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class QwotyResponse:
    status: int
    body: dict
    duration_ms: int

    @property
    def data(self):
        return self.body.get("data")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


class BearerToken(requests.auth.AuthBase):
    """The token, set on each request. As the session's auth it also stops requests from reading ~/.netrc
    on every call, which costs a file lookup each time and, with an entry for the host, would replace it."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerToken>"


def new_session(base_url: str, auth: requests.auth.AuthBase | None) -> requests.Session:
    """A session for one upstream: JSON, our User-Agent, and the environment's proxy and CA settings read once."""
    session = requests.Session()
    session.auth = auth
    # Proxy and CA settings from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…) are read
    # once: requests would scan os.environ twice on every call, which costs a push more CPU than
    # its JSON. A session only ever calls base_url, so the answer cannot change between calls.
    environment = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies, session.verify = environment["proxies"], environment["verify"]
    session.headers.update({"Accept": "application/json", "User-Agent": "qwoty-backoffice/1.0"})
    return session


class QwotyClient:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ):
        self.base_url = (base_url or settings.QWOTY_API_URL).rstrip("/")
        self._token = token if token is not None else settings.QWOTY_API_TOKEN
        self.timeout = (
            connect_timeout or settings.QWOTY_CONNECT_TIMEOUT,
            read_timeout or settings.QWOTY_READ_TIMEOUT,
        )
        self.session = new_session(self.base_url, BearerToken(self._token))

    def __repr__(self) -> str:
        return f"<QwotyClient {self.base_url}>"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- calls -------------------------------------------------------------------------------

    def get(self, resource: str, object_id) -> QwotyResponse:
        return self.request("GET", f"{resource}/{object_id}")

    def patch(self, resource: str, object_id, body: dict) -> QwotyResponse:
        return self.request("PATCH", f"{resource}/{object_id}", json=body)

    def create(self, resource: str, body: dict) -> QwotyResponse:
        return self.request("POST", resource, json=body)

    def list_page(self, resource: str, *, page: int = 1, per_page: int = MAX_PER_PAGE) -> QwotyResponse:
        return self.request("GET", resource, params={"page": page, "per_page": per_page})

    def request(self, method: str, path: str, **kwargs) -> QwotyResponse:
        url = self.url(path)
        started = time.monotonic()
        raw = send(
            self.session, method, url, path=path, name="Qwoty", base_url=self.base_url, timeout=self.timeout, **kwargs
        )
        duration_ms = round((time.monotonic() - started) * 1000)
        logger.debug("%s %s -> %s in %sms", method, url, raw.status_code, duration_ms)
        return _interpret(raw, duration_ms)


def _interpret(raw: requests.Response, duration_ms: int) -> QwotyResponse:
    try:
        body = raw.json()
    except ValueError:
        body = None
    status = raw.status_code
    if 200 <= status < 300 and isinstance(body, dict) and body.get("success") is True:
        return QwotyResponse(status=status, body=body, duration_ms=duration_ms)
    text = redact_body(raw.text)[:4000]  # what an error carries: the raw answer, without any secret
    if 200 <= status < 300:
        raise QwotyBadResponse(f"Unexpected answer from Qwoty (HTTP {status})", status=status, body=text)
    if 300 <= status < 400:
        raise redirected(raw, name="Qwoty", setting="QWOTY_API_URL")
    error = redact(str(body.get("error"))) if isinstance(body, dict) and body.get("error") else f"HTTP {status}"
    raise error_for_status(status, error, body=text, retry_after=parse_retry_after(raw.headers.get("Retry-After")))


def send(session: requests.Session, method: str, url: str, *, path: str, name: str, base_url: str, **kwargs):
    """One call to `url` (`path` under `base_url`) of the upstream `name`, its failures as our typed errors.

    Never follows a redirect: requests would resend a PATCH or PUT without its body, or as a GET, and
    take the answer for a success (`redirected()` says where it pointed instead).
    """
    try:
        return session.request(method, url, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        raise QwotyTimeout(f"{name} did not answer {method} {path} in time") from without_request(exc)
    except requests.ConnectionError as exc:
        where = redact_url(base_url)
        raise QwotyConnectionError(f"Could not reach {name} at {where}: {connection_reason(exc)}") from (
            without_request(exc)
        )
    except requests.RequestException as exc:  # an answer cut off mid-body, a header requests refuses…
        raise QwotyConnectionError(
            f"{name}'s answer to {method} {path} could not be read: {connection_reason(exc)}"
        ) from without_request(exc)


def redirected(raw: requests.Response, *, name: str, setting: str) -> QwotyBadResponse:
    location = redact_url(raw.headers.get("Location", "elsewhere"))
    message = f"{name} redirected the call to {location} (HTTP {raw.status_code}): check {setting}"
    return QwotyBadResponse(message, status=raw.status_code, body=redact_body(raw.text)[:4000])


def connection_reason(exc: Exception) -> str:
    """The innermost cause, short: 'Connection refused' rather than urllib3's whole chain."""
    reason = exc
    while reason.__context__ is not None and not isinstance(reason, ConnectionRefusedError):
        reason = reason.__context__
    return redact(str(reason)[:200]) or type(exc).__name__


def without_request(exc: Exception) -> Exception:
    # requests' exceptions hold the PreparedRequest (with its Authorization header); drop it.
    exc.request = None
    return exc


__all__ = ["RESOURCES", "QwotyClient", "QwotyError", "QwotyResponse", "parse_retry_after"]
