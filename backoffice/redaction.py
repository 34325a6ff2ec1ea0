"""Keep upstream tokens out of logs, stored requests and error messages.

`redact()` scrubs text as it is. A JSON body can spell a secret with escapes (`\\u0026` for `&`, any
character as `\\uXXXX`) that no raw-text search finds and any JSON reader decodes: bodies go through
`redact_body()` (text) or `redact_data()` (decoded JSON), which scrub each string once decoded.
"""

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
# Every secret the settings hold: Qwoty's token, Prioticket's client secret, Koywe's token, the mail server's password.
SECRET_SETTINGS = ("QWOTY_API_TOKEN", "PRIOTICKET_CLIENT_SECRET", "KOYWE_API_TOKEN", "EMAIL_HOST_PASSWORD")


def redact(text: str) -> str:
    """Return `text` with the configured secrets (also JSON-escaped or URL-encoded), any token-shaped
    string and any password in a URL replaced."""
    if not text:
        return text
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    if _may_hold_token_shape(text):  # the regex costs a push more than the rest of its redaction
        text = _TOKEN_SHAPES.sub(lambda m: (m.group(1) or m.group(2) or "") + REDACTED, text)
    return text


# What each of _TOKEN_SHAPES' patterns must contain to match, as its (?i) reads text: the long s is an "s", the
# Kelvin sign a "k" (casefold() does the same). casefold() is 9 times faster than a search on a usual body, but
# copies the text at up to 13 bytes a character: past CASEFOLD_MAX characters the search is used.
_TOKEN_HINTS = ("bearer", "access_token", "qwoty_", "qwt_")
_TOKEN_HINTS_SEARCH = re.compile("(?i)" + "|".join(_TOKEN_HINTS))
CASEFOLD_MAX = 64 * 1024
# What a _URL_PASSWORD match looks like once JSON-encoded: no "/" between "://" and "@".
_URL_PASSWORD_HINT = re.compile(r"://[^/]*@")


def _may_hold_token_shape(text: str) -> bool:
    if len(text) > CASEFOLD_MAX:
        return _TOKEN_HINTS_SEARCH.search(text) is not None
    folded = text.casefold()
    return any(hint in folded for hint in _TOKEN_HINTS)


def redact_body(text: str) -> str:
    """A body as an upstream sent it, fit to store or show: a JSON body is decoded, scrubbed string by
    string (keys and values) and encoded again; any other text is scrubbed as text (`redact_text()`)."""
    if not text or "\\" not in text:
        return redact(text)  # no escape: each string of a JSON body reads in the text as decoded
    try:
        return json.dumps(_redact_strings(json.loads(text)))
    except (ValueError, RecursionError):  # not JSON (cut short, say), or nested too deep to walk
        return redact_text(text)


def redact_data(data):
    """Decoded JSON (a request body, an answer) with every string in it, keys and values, redacted."""
    return _redact_strings(data) if _may_hold_secret(json.dumps(data)) else data


def redact_json(data) -> str:
    """`data` encoded as json.dumps() does by default, every string in it redacted."""
    text = json.dumps(data)
    return json.dumps(_redact_strings(data)) if _may_hold_secret(text) else text


def redact_text(text: str) -> str:
    """Text that is not JSON but may quote some (a body cut short, a traceback): also scrubbed with its JSON
    escapes decoded, so a secret spelt with them is found."""
    cleaned = redact(text)
    if text and "\\" in text:
        decoded = _JSON_ESCAPE.sub(_unescape, text)
        if redact(decoded) != decoded:
            return redact(decoded)
    return cleaned


def _may_hold_secret(encoded: str) -> bool:
    """Whether redact() would change any string that json.dumps() encoded into `encoded`. It escapes character
    by character, so each form of a secret in a string shows encoded alike, and a token shape keeps its hint."""
    return (
        any(secret in encoded for secret in _encoded(_secrets()))
        or _may_hold_token_shape(encoded)
        or ("://" in encoded and _URL_PASSWORD_HINT.search(encoded) is not None)
    )


def _redact_strings(data):
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, list):
        return [_redact_strings(item) for item in data]
    if isinstance(data, dict):
        return {redact(key): _redact_value(key, value) for key, value in data.items()}
    return data


def _redact_value(key: str, value):
    # An OAuth2 answer's token is a secret whatever its shape (the raw-text scrub knows it by its key too).
    if key.casefold() == "access_token" and isinstance(value, str):
        return REDACTED
    return _redact_strings(value)


# JSON's escapes: a surrogate pair, one UTF-16 unit, or a one-character escape.
_JSON_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])"
)
_SHORT_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(match: re.Match) -> str:
    high, low, unit, char = match.groups()
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    if unit:
        code = int(unit, 16)
        return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate cannot be stored
    return _SHORT_ESCAPES.get(char, char)


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


@functools.lru_cache(maxsize=8)
def _encoded(variants: tuple[str, ...]) -> tuple[str, ...]:
    return tuple({json.dumps(variant)[1:-1] for variant in variants})


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
