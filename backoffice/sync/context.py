"""Marks saves that come from upstream, so the push layer does not echo them back."""

from contextlib import contextmanager
from contextvars import ContextVar

_applying_upstream: ContextVar[bool] = ContextVar("applying_upstream", default=False)


@contextmanager
def applying_upstream():
    token = _applying_upstream.set(True)
    try:
        yield
    finally:
        _applying_upstream.reset(token)


def is_applying_upstream() -> bool:
    return _applying_upstream.get()
