"""Exponential backoff with jitter, honouring the upstream's Retry-After."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from backoffice.sync.http.errors import UpstreamError

T = TypeVar("T")


def backoff_delay(attempt: int, *, retry_after: float | None = None, base: float = 0.5, cap: float = 60.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based): "equal jitter" exponential backoff.

    Never less than what the upstream asked for in Retry-After, up to `cap`: a Retry-After of a year
    (or of an HTTP date in 9999) would otherwise park the record where no sweep looks.
    """
    ceiling = min(cap, base * 2 ** min(attempt - 1, 64))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return min(max(delay, retry_after or 0.0), cap)


def call_with_retries(call: Callable[[], T], *, attempts: int = 5, base: float = 0.5, sleep=time.sleep) -> T:
    """Run `call`, retrying retryable Qwoty errors (429, 5xx, timeouts, resets) up to `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except UpstreamError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            sleep(backoff_delay(attempt, retry_after=getattr(exc, "retry_after", None), base=base))
    raise AssertionError("unreachable")
