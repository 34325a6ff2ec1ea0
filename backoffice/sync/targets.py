"""What the pushes to every target share: their outcomes, and each target's pause switch and rate limit."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.sync.http.errors import UpstreamError, UpstreamForbidden, UpstreamUnauthorized

from . import statements, upstream
from .backoff import backoff_delay
from .hooks import target_resumed
from .models import SyncStatus, Target, TargetState

logger = logging.getLogger(__name__)

PUSHING, PUSHED, NOTHING_TO_SEND, NOT_DUE, PAUSED, RETRYING, FAILED = (
    "pushing",
    "pushed",
    "nothing to send",
    "not due",
    "paused",
    "retrying",
    "failed",
)
TARGET = Target.QWOTY


def target_state(target: str = TARGET) -> TargetState:
    state, _ = TargetState.objects.get_or_create(target=target)
    return state


def pause_target(reason: str, target: str = TARGET) -> None:
    target_state(target)
    TargetState.objects.filter(target=target, paused=False).update(
        paused=True, paused_reason=reason, paused_at=timezone.now()
    )
    logger.warning("Pushing to %s paused: %s", Target(target).label, reason)


def mark_failing(target: str, failure: UpstreamError | None) -> None:
    """A worker holds the target's pushes back since now, for `failure` (once: the first worker to do so sets the
    time), or takes them again (`failure` None)."""
    marked = target_state(target).failing_since is not None  # a plain read: most calls change nothing
    states = TargetState.objects.filter(target=target)
    if failure is None:
        if marked:
            states.exclude(failing_since=None).update(failing_since=None, failing_reason="")
        return
    if marked:
        return
    status = f" (HTTP {failure.status})" if failure.status else ""
    states.filter(failing_since=None).update(failing_since=timezone.now(), failing_reason=f"{failure.message}{status}")


def resume(target: str = TARGET) -> int:
    """Unpause and queue every pending record (or link, for a secondary target); returns how many were queued.
    Who holds what is pending for the target queues it (`hooks.target_resumed`)."""
    TargetState.objects.filter(target=target).update(paused=False, paused_reason="", paused_at=None)
    return sum(queued for _, queued in target_resumed.send(sender=target))


@transaction.atomic
def claim(model, pk, target: str) -> tuple[str, float]:
    """One short transaction per push: is the target paused, move the due record (or link) from pending to
    pushing, take the target's next request slot.

    Returns (PUSHING, seconds to wait for its slot), or (PAUSED | NOT_DUE, 0). The claim is one
    conditional UPDATE, so when two workers race for a row only one gets it.
    """
    state = statements.select_for_update(TargetState, target, ("paused", "next_slot_at"))
    if state is None:  # the first push to this target
        target_state(target)
        return claim(model, pk, target)
    if state["paused"]:
        return PAUSED, 0
    now = timezone.now()
    claimed = statements.update(
        model,
        pk,
        {"sync_status": SyncStatus.PUSHING, "pushing_since": now},
        where="{sync_status} = %s AND ({next_push_at} IS NULL OR {next_push_at} <= %s)",
        params=(("sync_status", SyncStatus.PENDING), ("next_push_at", now)),
    )
    if not claimed:
        return NOT_DUE, 0
    return PUSHING, take_request_slot(state["next_slot_at"], now, target=target)


def take_request_slot(next_slot_at, now, *, target: str = TARGET) -> float:
    """Reserve the target's next request slot (its rate, `upstream.facts(target).rate`, is shared by all workers);
    seconds until it comes.

    Called with the target's row locked, so two workers never take the same slot.
    """
    rate = upstream.facts(target).rate
    if not rate:
        return 0.0
    slot = max(next_slot_at or now, now)
    statements.update(TargetState, target, {"next_slot_at": slot + timedelta(seconds=1 / rate)})
    return (slot - now).total_seconds()


@dataclass(frozen=True)
class AfterError:
    """What a failed call leads to, whichever target refused it."""

    outcome: str  # PAUSED, RETRYING or FAILED
    attempts: int  # failed attempts so far, this one included (a pause counts none)
    error: str  # what staff read on the record
    retry_at: datetime | None = None


def after_error(exc: UpstreamError, attempts_before: int) -> AfterError:
    """401/403 pause the target (not the record's fault); 429, 5xx and lost connections are retried with
    backoff up to QWOTY_PUSH_MAX_ATTEMPTS; the rest fail at once with the target's message."""
    if isinstance(exc, UpstreamUnauthorized | UpstreamForbidden):
        return AfterError(PAUSED, attempts_before, exc.message)
    attempts = attempts_before + 1
    if exc.retryable and attempts < settings.QWOTY_PUSH_MAX_ATTEMPTS:
        delay = backoff_delay(
            attempts,
            retry_after=getattr(exc, "retry_after", None),
            base=settings.QWOTY_RETRY_BASE_SECONDS,
            cap=settings.QWOTY_RETRY_MAX_SECONDS,
        )
        return AfterError(RETRYING, attempts, exc.message, timezone.now() + timedelta(seconds=delay))
    message = exc.message if not exc.retryable else f"Gave up after {attempts} attempts: {exc.message}"
    return AfterError(FAILED, attempts, message)
