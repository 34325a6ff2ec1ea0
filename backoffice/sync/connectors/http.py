"""HTTP for the secondary targets: the Qwoty client's session, timeouts and typed errors, their auth and bodies.

Every call returns a `TargetResponse` or raises the `UpstreamError` subclass its status calls for, so
the push layer retries, gives up or pauses a secondary target exactly as it does Qwoty. Tokens and
client secrets travel only in headers and the token request: never in a message or a return value.
"""

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from backoffice.redaction import redact, redact_body, remember_secret
from backoffice.sync.http.errors import UpstreamBadResponse, UpstreamUnauthorized, error_for_status
from backoffice.sync.http.transport import Answer, new_session, parse_retry_after, redirected, send

# Where each target puts its error text: Prioticket `error_message`, Koywe (and OAuth2) `message`/`error`.
ERROR_KEYS = ("error_message", "message", "error_description", "error")


@dataclass(frozen=True)
class TargetResponse:
    status: int
    body: dict
    duration_ms: int


class StaticToken:
    """A bearer token from the settings."""

    def __init__(self, token: str):
        self._token = token

    def token(self, deadline: float | None = None) -> str:
        return self._token

    def forget(self) -> None:
        """Nothing to renew: a refused static token pauses the target until staff fix it."""

    def __repr__(self) -> str:
        return "<StaticToken>"


class ClientCredentials:
    """OAuth2 client credentials: a bearer token fetched with the client id and secret, kept until shortly
    before it expires. Shared by every thread of the process (one token, not one per push)."""

    EARLY_SECONDS = 30  # renewed this long before its expiry, so no request leaves with a dying token
    _tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
    _lock = threading.Lock()

    def __init__(self, name: str, token_url: str, client_id: str, client_secret: str):
        self.name, self.token_url = name, token_url
        self._key = (token_url, client_id, client_secret)  # new credentials, new token
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._session = new_session(token_url, None)

    def token(self, deadline: float | None = None) -> str:
        """The token, fetched if need be by `deadline` (a `time.monotonic()`: the push's, so that the token
        request and the call it serves end together within QWOTY_CALL_DEADLINE_SECONDS)."""
        with self._lock:
            token, expires_at = self._tokens.get(self._key, ("", 0.0))
            if time.monotonic() < expires_at:
                return token
            token, lifetime = self._fetch(deadline)
            self._tokens[self._key] = (token, time.monotonic() + max(lifetime - self.EARLY_SECONDS, 0))
            return token

    def forget(self) -> None:
        """The target refused our token before its expiry (revoked): the next call fetches a new one."""
        with self._lock:
            self._tokens.pop(self._key, None)

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._tokens.clear()

    def _fetch(self, deadline: float | None) -> tuple[str, float]:
        raw = send(
            self._session,
            "POST",
            self.token_url,
            path=urlsplit(self.token_url).path,
            name=self.name,
            base_url=self.token_url,
            data=self._credentials,
            timeout=(settings.QWOTY_CONNECT_TIMEOUT, settings.QWOTY_READ_TIMEOUT),
            deadline=deadline,
        )
        body = _json(raw)
        if raw.status_code == 200 and isinstance(body.get("access_token"), str) and body["access_token"]:
            remember_secret(body["access_token"])  # redacted wherever the target might echo it
            return body["access_token"], _seconds(body.get("expires_in"))
        text = redact_body(raw.text)[:4000]
        if raw.status_code == 429 or raw.status_code >= 500:
            message = f"token request failed: {_error_text(body, raw.status_code)}"
            retry_after = parse_retry_after(raw.headers.get("Retry-After"))
            raise error_for_status(raw.status_code, message, body=text, retry_after=retry_after)
        # Refused credentials, a wrong token URL (404, a redirect), an answer without a token: a setting to fix,
        # so the target pauses rather than failing every link one by one.
        message = f"token request refused: {_error_text(body, raw.status_code)}; check the {self.name} settings"
        raise UpstreamUnauthorized(message, status=raw.status_code, body=text)

    def __repr__(self) -> str:
        return f"<ClientCredentials {self.name}>"


class TargetClient:
    """One secondary target's API: `request()` answers a TargetResponse or raises a UpstreamError subclass."""

    def __init__(self, name: str, base_url: str, auth: StaticToken | ClientCredentials):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = (settings.QWOTY_CONNECT_TIMEOUT, settings.QWOTY_READ_TIMEOUT)
        # The token is set per call, not as the session's auth: a token fetch must raise our errors, not requests'.
        self.session = new_session(self.base_url, None)

    def __repr__(self) -> str:
        return f"<TargetClient {self.name} {self.base_url}>"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, params: dict | None = None, json=None) -> TargetResponse:
        # One deadline for all the calls a push makes (a token, the PUT, a fresh token and the PUT again): it is
        # the push, not each call, that must end before the sweep takes it for a dead worker's.
        deadline = time.monotonic() + settings.QWOTY_CALL_DEADLINE_SECONDS
        token = self.auth.token(deadline)  # a refused token request raises here, and is not tried again
        try:
            return self._send(method, path, params, json, token, deadline)
        except UpstreamUnauthorized:
            if not isinstance(self.auth, ClientCredentials):
                raise
            self.auth.forget()  # a token revoked before its expiry: one more try, with a fresh one
            return self._send(method, path, params, json, self.auth.token(deadline), deadline)

    def _send(self, method: str, path: str, params, json, token: str, deadline: float) -> TargetResponse:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        raw = send(
            self.session,
            method,
            self.url(path),
            path=path,
            name=self.name,
            base_url=self.base_url,
            params=params,
            json=json,
            headers=headers,
            timeout=self.timeout,
            deadline=deadline,
        )
        duration_ms = round((time.monotonic() - started) * 1000)
        body = _json(raw)
        if 200 <= raw.status_code < 300:
            if not body:
                raise UpstreamBadResponse(
                    f"Unexpected answer from {self.name} (HTTP {raw.status_code})",
                    status=raw.status_code,
                    body=redact_body(raw.text)[:4000],
                )
            return TargetResponse(status=raw.status_code, body=body, duration_ms=duration_ms)
        if 300 <= raw.status_code < 400:
            raise redirected(raw, name=self.name, setting="its API URL")
        raise error_for_status(
            raw.status_code,
            _error_text(body, raw.status_code),
            body=redact_body(raw.text)[:4000],
            retry_after=parse_retry_after(raw.headers.get("Retry-After")),
        )


def _seconds(value) -> float:
    """An OAuth2 `expires_in`; anything unreadable counts as already expired (the token serves this call only)."""
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _json(raw: Answer) -> dict:
    try:
        body = raw.json()
    except ValueError:  # whatever the body: Answer.json() raises nothing else
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(body: dict, status: int) -> str:
    for key in ERROR_KEYS:
        if isinstance(body.get(key), str) and body[key]:
            return redact(body[key])
    return f"HTTP {status}"
