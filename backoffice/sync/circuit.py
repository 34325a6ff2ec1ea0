"""A circuit breaker per target, in each worker process: a target that keeps failing is held back, not hammered.

With a target down every push fails at once and is retried with backoff, and each attempt costs a claim, a stored
attempt and a retry task: write transactions that, on SQLite, make the staff's saves wait for the write lock. So
after QWOTY_CIRCUIT_FAILURES calls in a row failed as a target that is down fails (5xx, 429, timeout, connection
refused or reset: `UpstreamError.retryable`), the worker stops taking that target's push tasks. They stay READY in
the queue and their rows pending: the outbox is unchanged, the sweep and resume work as before (the sweep queues no
duplicates of them). One task is let through now and then (a probe), after a backoff from QWOTY_RETRY_BASE_SECONDS
up to QWOTY_CIRCUIT_MAX_SECONDS or QWOTY_RETRY_MAX_SECONDS, whichever is less (or the target's Retry-After); the
first call it answers closes the circuit, and the held tasks run in queue order.

Only the dispatcher's thread uses a circuit (it reads the reports of the pushes that ended), so there is no lock.
"""

import time
from dataclasses import dataclass

from django.conf import settings

from backoffice.sync.http.errors import UpstreamError

from .backoff import backoff_delay
from .reports import Report

OPENED, CLOSED = "opened", "closed"


@dataclass(frozen=True)
class Change:
    """A circuit opened (the target is held back, `failure` says why) or closed (it answered again)."""

    target: str
    change: str  # OPENED or CLOSED
    failure: UpstreamError | None = None


class Circuit:
    """One target's: closed (its tasks are taken as they come), or open (held until `probe_at`, then one probe)."""

    def __init__(self, target: str, *, clock=time.monotonic):
        self.target = target
        self.clock = clock
        self.failures = 0  # calls in a row that failed
        self.holds = 0  # times held back since it opened, the opening included: the backoff's step
        self.probe_at: float | None = None  # set while open
        self.probing = False  # a probe is running: no other until it reports

    @property
    def open(self) -> bool:
        return self.probe_at is not None

    def probe_due(self) -> bool:
        return self.open and not self.probing and self.clock() >= self.probe_at

    def start_probe(self) -> None:
        self.probing = True

    def end_probe(self) -> None:
        """The probe's task ended. Without a call (its record was not due, or had nothing to send) another task
        is let through at the next round; with one, `reported` has moved the circuit already."""
        self.probing = False

    def reported(self, failure: UpstreamError | None) -> str | None:
        """A call to the target ended: answered (`failure` None) or failed. Returns OPENED or CLOSED when the
        circuit moved."""
        if failure is None:
            self.failures = 0
            if not self.open:
                return None
            self.holds, self.probe_at, self.probing = 0, None, False
            return CLOSED
        self.failures += 1
        if self.open:
            if self.probing:  # the probe failed: wait longer for the next one
                self._hold(failure)
            return None  # a push already in flight when the circuit opened
        if self.failures < settings.QWOTY_CIRCUIT_FAILURES:
            return None
        self._hold(failure)
        return OPENED

    def _hold(self, failure: UpstreamError) -> None:
        self.holds += 1
        self.probing = False
        delay = backoff_delay(
            self.holds,
            retry_after=getattr(failure, "retry_after", None),
            base=settings.QWOTY_RETRY_BASE_SECONDS,
            cap=longest_hold(),
        )
        self.probe_at = self.clock() + delay


def longest_hold() -> float:
    """The longest wait between two probes: never longer than a record's own retry would wait (holding a target
    back must not slow its recovery)."""
    return min(settings.QWOTY_CIRCUIT_MAX_SECONDS, settings.QWOTY_RETRY_MAX_SECONDS)


class Circuits:
    """Every target's circuit, made on its first report."""

    def __init__(self, *, clock=time.monotonic):
        self._clock = clock
        self._circuits: dict[str, Circuit] = {}

    def __getitem__(self, target: str) -> Circuit:
        if target not in self._circuits:
            self._circuits[target] = Circuit(target, clock=self._clock)
        return self._circuits[target]

    def feed(self, report: Report | None) -> Change | None:
        """Take a finished push's report; returns the change it made, if any."""
        if report is None or not report.target:
            return None
        moved = self[report.target].reported(report.failure)
        return moved and Change(report.target, moved, report.failure)

    def held(self) -> tuple[str, ...]:
        """The targets whose tasks are not to be taken (a probe aside)."""
        return tuple(sorted(target for target, circuit in self._circuits.items() if circuit.open))

    def probes_due(self) -> tuple[str, ...]:
        return tuple(sorted(target for target, circuit in self._circuits.items() if circuit.probe_due()))
