"""Keep upstream tokens out of logs, stored requests and error messages."""

import functools
import json
import logging
import re
from collections import deque
from urllib.parse import quote, quote_plus

from django.conf import settings

REDACTED = "[REDACTED]"

# Bearer headers, OAuth2 access tokens in a JSON answer, and anything shaped like a Qwoty token
# (qwoty_..., qwt_prod_...), whatever token is configured.
_TOKEN_SHAPES = re.compile(r"(?i)(bearer\s+)[^\s\"',]+|(\"access_token\"\s*:\s*\")[^\"]+|\bqw(?:oty|t)_[A-Za-z0-9_\-]+")
# user:password@ in a URL (a token put in QWOTY_API_URL), and the whole userinfo of a URL we show.
_URL_PASSWORD = re.compile(r"(://[^/\s:@\"']*:)[^/\s@\"']+@")
_URL_USERINFO = re.compile(r"^([a-z][a-z0-9+.\-]*://)[^/@]*@", re.IGNORECASE)
# Every secret the settings hold: Qwoty's token, Prioticket's client secret, Koywe's token.
SECRET_SETTINGS = ("QWOTY_API_TOKEN", "PRIOTICKET_CLIENT_SECRET", "KOYWE_API_TOKEN")


def redact(text: str) -> str:
    """Return `text` with the configured secrets (also JSON-escaped or URL-encoded), any token-shaped
    string and any password in a URL replaced."""
    if not text:
        return text
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return _TOKEN_SHAPES.sub(lambda m: (m.group(1) or m.group(2) or "") + REDACTED, text)


def redact_url(url: str) -> str:
    """A URL fit to show or store: secrets and any user:password part replaced."""
    return redact(_URL_USERINFO.sub(rf"\1{REDACTED}@", url))


# Secrets obtained at run time (OAuth2 access tokens): the latest few, enough to cover those still valid.
_runtime_secrets: deque[str] = deque(maxlen=16)


def remember_secret(secret: str) -> None:
    """Redact `secret` from now on, like the secrets the settings hold."""
    if secret and secret not in _runtime_secrets:
        _runtime_secrets.append(secret)


def _secrets() -> tuple[str, ...]:
    configured = (str(getattr(settings, name, "") or "").strip() for name in SECRET_SETTINGS)
    return _variants((*configured, *_runtime_secrets))


@functools.lru_cache(maxsize=8)
def _variants(secrets: tuple[str, ...]) -> tuple[str, ...]:
    found = set()
    for secret in filter(None, secrets):
        escaped = json.dumps(secret)[1:-1]
        found |= {secret, escaped, escaped.replace("/", "\\/"), quote(secret, safe=""), quote_plus(secret)}
    return tuple(sorted(found, key=len, reverse=True))  # longest first: a form that holds another goes whole


def redact_headers(headers) -> dict:
    """Copy of request headers safe to store: credentials replaced."""
    return {k: (REDACTED if k.lower() in {"authorization", "cookie", "x-api-key"} else v) for k, v in headers.items()}


class RedactingFilter(logging.Filter):
    """Logging filter: renders the message once, redacted, so no handler sees the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
