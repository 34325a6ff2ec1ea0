"""What the pushes to every target share: their outcomes, and each target's pause switch and rate limit."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import statements
from .models import Target, TargetState

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


def take_request_slot(next_slot_at, now, *, target: str = TARGET) -> float:
    """Reserve the target's next request slot (the rate is shared by all workers); seconds until it comes.

    Called with the target's row locked, so two workers never take the same slot.
    """
    rate = settings.QWOTY_PUSH_RATE_PER_SECOND if target == TARGET else settings.SECONDARY_PUSH_RATE_PER_SECOND
    if not rate:
        return 0.0
    slot = max(next_slot_at or now, now)
    statements.update(TargetState, target, {"next_slot_at": slot + timedelta(seconds=1 / rate)})
    return (slot - now).total_seconds()
