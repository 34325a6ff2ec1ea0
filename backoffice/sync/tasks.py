"""Queue tasks: thin, they take ids and call the push layer."""

import functools
from traceback import format_exception

from django_tasks import task

from backoffice.redaction import redact_text

from . import links, push, refresh


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


@task()
@secrets_redacted
def push_record(resource: str, record_id: str) -> str:
    return push.push_now(resource, record_id)


@task()
@secrets_redacted
def sweep() -> dict:
    return push.sweep()


@task()
@secrets_redacted
def push_link(target: str, link_id: int) -> str:
    return links.push_now(target, link_id)


@task()
@secrets_redacted
def refresh_from_qwoty(run_id: int) -> str:
    return refresh.run_refresh(run_id)
