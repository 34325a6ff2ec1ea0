"""Keep upstream tokens out of logs, stored requests and error messages."""

import logging
import re

from django.conf import settings

REDACTED = "[REDACTED]"

# Bearer headers, OAuth2 access tokens in a JSON answer, and anything shaped like a Qwoty token
# (qwoty_..., qwt_prod_...), whatever token is configured.
_TOKEN_SHAPES = re.compile(r"(?i)(bearer\s+)[^\s\"',]+|(\"access_token\"\s*:\s*\")[^\"]+|\bqw(?:oty|t)_[A-Za-z0-9_\-]+")
# Every secret the settings hold: Qwoty's token, Prioticket's client secret, Koywe's token.
SECRET_SETTINGS = ("QWOTY_API_TOKEN", "PRIOTICKET_CLIENT_SECRET", "KOYWE_API_TOKEN")


def redact(text: str) -> str:
    """Return `text` with the configured token and any token-shaped string replaced."""
    if not text:
        return text
    for name in SECRET_SETTINGS:
        secret = getattr(settings, name, "")
        if secret:
            text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPES.sub(lambda m: (m.group(1) or m.group(2) or "") + REDACTED, text)


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
