"""What a push tells the worker that runs it, besides its task's return value: the writes it leaves to the worker's
next round, and how its target answered (the worker's circuits, `circuit.py`, hold back a target that keeps failing).

Outside `qwoty_worker` (a test's inline queue, `manage.py qwoty_push`, an RQ worker) nobody listens: a push writes
its outcome itself, and what it reports goes nowhere.
"""

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from backoffice.sync.http.errors import UpstreamError

_thread = threading.local()


@dataclass(eq=False)
class Report:
    # Failed pushes' bookkeeping (a retry, or failed for good), for the worker to write with its next round.
    writes: list[Callable[[], None]] = field(default_factory=list)
    target: str = ""  # the target called, if a call was made
    failure: UpstreamError | None = None  # the call failed as a target that is down fails (retryable)


@contextlib.contextmanager
def reporting():
    """Within this block, this thread's push reports to the `Report` yielded.

    Why the writes wait: with the upstream down, each push fails at once and its retry comes soon, and a write
    transaction for each would take SQLite's one write lock from the staff's saves in bursts. Until written, the
    record stays `pushing`: a worker killed before that leaves it to the sweep, as one killed mid-call does.
    """
    _thread.report = report = Report()
    try:
        yield report
    finally:
        _thread.report = None


def current() -> Report | None:
    return getattr(_thread, "report", None)


def called(target: str, error: UpstreamError | None = None) -> None:
    """A push called `target`: it answered (no error, or one that is the record's, not the target's), or it failed
    the way a target that is down, overloaded or unreachable does (`error.retryable`)."""
    report = current()
    if report is not None:
        report.target = target
        report.failure = error if error is not None and error.retryable else None
