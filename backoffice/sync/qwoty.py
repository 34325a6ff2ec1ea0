"""Qwoty's API as the push and the pull call it: its resources, its paths, its envelope (`success`, `data`, `error`).

Every call returns a `QwotyResponse` (status, parsed body, duration) or raises an `UpstreamError` subclass
carrying the same facts (http/transport.py sends it), so the push layer can store each call whatever its outcome.
"""

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from backoffice.redaction import redact, redact_body

from .http.errors import UnsafePath, UpstreamBadResponse, error_for_status
from .http.transport import Answer, BearerToken, new_session, parse_retry_after, redirected, send

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
        return self.request("GET", record_path(resource, object_id))

    def patch(self, resource: str, object_id, body: dict) -> QwotyResponse:
        return self.request("PATCH", record_path(resource, object_id), json=body)

    def list_page(self, resource: str, *, page: int = 1, per_page: int = MAX_PER_PAGE) -> QwotyResponse:
        return self.request("GET", resource_path(resource), params={"page": page, "per_page": per_page})

    def request(self, method: str, path: str, **kwargs) -> QwotyResponse:
        url = self.url(path)
        started = time.monotonic()
        raw = send(
            self.session, method, url, path=path, name="Qwoty", base_url=self.base_url, timeout=self.timeout, **kwargs
        )
        duration_ms = round((time.monotonic() - started) * 1000)
        logger.debug("%s %s -> %s in %sms", method, url, raw.status_code, duration_ms)
        return _interpret(raw, duration_ms)


def resource_path(resource: str) -> str:
    if resource not in RESOURCES:
        raise UnsafePath(f"Not a Qwoty resource: {resource[:100]!r}")
    return resource


def record_path(resource: str, object_id) -> str:
    """`<resource>/<id>`, the id written as a UUID: Qwoty's ids are UUIDs, and anything else (`..`, a slash)
    could turn the path into another endpoint's, called with our token."""
    if not isinstance(object_id, uuid.UUID):
        try:
            object_id = uuid.UUID(str(object_id))
        except ValueError:
            raise UnsafePath(f"Not a Qwoty id: {str(object_id)[:100]!r}") from None
    return f"{resource_path(resource)}/{object_id}"


def _interpret(raw: Answer, duration_ms: int) -> QwotyResponse:
    try:
        body = raw.json()
    except ValueError:
        body = None
    status = raw.status_code
    if 200 <= status < 300 and isinstance(body, dict) and body.get("success") is True:
        return QwotyResponse(status=status, body=body, duration_ms=duration_ms)
    text = redact_body(raw.text)[:4000]  # what an error carries: the raw answer, without any secret
    if 200 <= status < 300:
        raise UpstreamBadResponse(f"Unexpected answer from Qwoty (HTTP {status})", status=status, body=text)
    if 300 <= status < 400:
        raise redirected(raw, name="Qwoty", setting="QWOTY_API_URL")
    error = redact(str(body.get("error"))) if isinstance(body, dict) and body.get("error") else f"HTTP {status}"
    raise error_for_status(status, error, body=text, retry_after=parse_retry_after(raw.headers.get("Retry-After")))
