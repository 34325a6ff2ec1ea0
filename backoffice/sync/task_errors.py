"""What every queue task of ours is wrapped in: a failure whose text would quote a secret is stored without it."""

import functools
from traceback import format_exception

from backoffice.redaction import redact_text


class RedactedTaskError(Exception):
    """A task's exception whose text held a secret; its message is the traceback, redacted."""


def secrets_redacted(function):
    """The queue stores a failed task's exception and traceback (and the admin shows them): one that would quote
    a secret is raised again as a RedactedTaskError, without it. Any other failure is stored as raised."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            text = "".join(format_exception(exc))
            cleaned = redact_text(text)
            if cleaned == text:
                raise
            raise RedactedTaskError(cleaned) from None

    return run
