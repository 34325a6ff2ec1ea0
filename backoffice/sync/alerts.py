"""Alerts to managers: a target paused on refused credentials, pushes failing, records that failed for good.

An alert is a named condition of one target (`qwoty:paused`, `qwoty:failing`, `qwoty:failed_records`, the same for
Prioticket and Koywe), stored with its state. Every sweep reads each condition and compares it with the stored
state: a change is one notice (an email to the Managers group and ALERT_EMAILS, and a line on the dashboard), its
end one recovery notice, and a condition that lasts sends nothing more. Records that fail for good are told in one
notice per ALERT_WINDOW_MINUTES at most, counting those failed since the last one, never in an email per record.

Several sweeps (or one restarted) never send a notice twice: an alert moves from the state it was read in by one
conditional UPDATE, and only the sweep whose UPDATE moved it records the notice. The email goes out once that has
committed, so at most once (a notice whose email failed says so on the dashboard). Every text goes through
`redact()`: a notice quotes what upstreams answered, never a credential.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from backoffice.accounts.roles import MANAGERS
from backoffice.redaction import redact

from . import upstream
from .circuit import longest_hold
from .models import Alert, AlertNotice, AlertState, NoticeKind, PushAttempt, SyncStatus, Target, TargetState

logger = logging.getLogger(__name__)

PAUSED, FAILING, FAILED_RECORDS = "paused", "failing", "failed_records"
CONDITIONS = (PAUSED, FAILING, FAILED_RECORDS)
SUBJECT_PREFIX = "[Qwoty back office] "
LISTED = 5  # failed records a notice names; the others are counted
# A push attempt that failed, as the push log's "error" filter reads it.
FAILED_ATTEMPT = ~Q(error_kind="")
IN_FLIGHT = (SyncStatus.PENDING, SyncStatus.PUSHING)


def alert_key(target: str, condition: str) -> str:
    return f"{target}:{condition}"


@dataclass(frozen=True)
class Change:
    """How a sweep moves an alert, and the notice that says so."""

    kind: str  # a NoticeKind
    subject: str
    body: str
    state: str  # the alert's state after the move
    since: datetime | None
    notified_until: datetime | None = None


def evaluate(*, now: datetime | None = None) -> list[AlertNotice]:
    """Read every target's conditions, compare them with their stored alerts, and record and email a notice for
    each change. `now` is the time of the reading (the sweep's clock; tests pass a simulated one). Returns the
    notices this call recorded: none while nothing changed."""
    now = now or timezone.now()
    alerts = stored_alerts()
    paused = {state.target: state for state in TargetState.objects.filter(paused=True)}
    held = {state.target: state for state in TargetState.objects.exclude(failing_since=None)}
    notices = []
    for target in Target.values:
        changes = {
            PAUSED: _paused_change(alerts[alert_key(target, PAUSED)], target, paused.get(target), now),
            FAILING: _failing_change(alerts[alert_key(target, FAILING)], target, held.get(target), now),
            FAILED_RECORDS: _failed_records_change(alerts[alert_key(target, FAILED_RECORDS)], target, now),
        }
        for condition, change in changes.items():
            notice = change and _move(alerts[alert_key(target, condition)], change, now)
            if notice:
                notices.append(notice)
    for notice in notices:
        _email(notice)
    return notices


def stored_alerts() -> dict[str, Alert]:
    """Every alert by key, created (clear) the first time."""
    keys = [alert_key(target, condition) for target in Target.values for condition in CONDITIONS]
    alerts = Alert.objects.in_bulk(keys)
    if len(alerts) < len(keys):
        Alert.objects.bulk_create([Alert(key=key) for key in keys if key not in alerts], ignore_conflicts=True)
        alerts = Alert.objects.in_bulk(keys)
    return alerts


def _move(alert: Alert, change: Change, now: datetime) -> AlertNotice | None:
    """Move the alert from the state it was read in and record the notice, unless another sweep moved it first:
    then that sweep's notice is the one, and this returns None."""
    subject = redact(change.subject)[:200]
    with transaction.atomic():
        as_read = Alert.objects.filter(
            pk=alert.pk, state=alert.state, since=alert.since, last_notified_at=alert.last_notified_at
        )
        moved = as_read.update(
            state=change.state,
            since=change.since,
            last_notified_at=now,
            notified_until=change.notified_until,
            summary=subject,
        )
        if not moved:
            return None
        return AlertNotice.objects.create(
            alert=alert, kind=change.kind, subject=subject, body=redact(change.body), created_at=now
        )


# -- the conditions -------------------------------------------------------------------------------------


def _paused_change(alert: Alert, target: str, paused: TargetState | None, now: datetime) -> Change | None:
    """Raised while the target is paused on refused credentials."""
    if (paused is not None) == alert.raised:
        return None
    if paused is None:
        return _recovery(
            alert,
            now,
            "pushing resumed",
            lambda label, lasted: (
                f"{label} accepts our credentials again: pushing resumed, {lasted} after it was paused.",
                f"{_pushes(_waiting(target))} waiting are being sent.",
            ),
        )
    label = Target(target).label
    since = paused.paused_at or now
    waiting = _pushes(_waiting(target))
    then = upstream.facts(target).resume_hint
    return Change(
        NoticeKind.RAISED,
        f"{label} is paused since {_clock(since)}, {waiting} waiting",
        _text(
            f"Pushing to {label} is paused since {_clock(since)}: it refused our credentials.",
            f"Reason: {paused.paused_reason or 'none recorded'}",
            f"{waiting} waiting. Edits are kept here and sent once the credentials are fixed. {then}",
            f"Pushes: {_link('sync:queue')}",
        ),
        AlertState.RAISED,
        since=since,
    )


def _attempts(target: str, start: datetime, now: datetime) -> dict:
    """The target's pushes after `start`: how many failed, the last failure and the last success. One query."""
    return PushAttempt.objects.filter(target=target, created_at__gt=start, created_at__lte=now).aggregate(
        failures=Count("id", filter=FAILED_ATTEMPT),
        last_failure=Max("created_at", filter=FAILED_ATTEMPT),
        last_success=Max("created_at", filter=~FAILED_ATTEMPT),
    )


def _failing_change(alert: Alert, target: str, held: TargetState | None, now: datetime) -> Change | None:
    """Raised once ALERT_FAILURE_THRESHOLD pushes failed within the window (counting none from before its last
    recovery: those were told), or a worker has held the target's pushes back for ALERT_HELD_MINUTES (with few
    edits, few calls fail: the probes); clear once it recovered (`_recovered`) and is held back no more."""
    label = Target(target).label
    window = f"{settings.ALERT_WINDOW_MINUTES:g} min"
    start = now - timedelta(minutes=settings.ALERT_WINDOW_MINUTES)
    if not alert.raised and alert.since and alert.since > start:
        start = alert.since
    recent = _attempts(target, start, now)
    failures = recent["failures"]
    if not alert.raised:
        if held and held.failing_since <= now - timedelta(minutes=settings.ALERT_HELD_MINUTES):
            return _held_change(held, now)
        if failures < settings.ALERT_FAILURE_THRESHOLD:
            return None
        return Change(
            NoticeKind.RAISED,
            f"{label} is failing: {failures} failed pushes in {window}",
            _text(
                f"{failures} pushes to {label} failed in the last {window} (the alert is at "
                f"{settings.ALERT_FAILURE_THRESHOLD}), the latest at {_clock(recent['last_failure'])}.",
                f"Most frequent: {_frequent_errors(target, start, now)}.",
                f"{_pushes(_waiting(target))} waiting. They are retried with backoff; a record that runs out of "
                "retries shows as failed.",
                f"The calls: {_link('sync:attempt-list')}?target={target}&outcome=error",
            ),
            AlertState.RAISED,
            since=now,
        )
    if held or not _recovered(recent, now):
        return None
    last_failure = f", the last failure at {_clock(recent['last_failure'])}" if recent["last_failure"] else ""
    return _recovery(
        alert,
        now,
        "pushes go through again",
        lambda label, lasted: (
            f"Pushes to {label} go through again: it was failing for {lasted}{last_failure}.",
            f"{_pushes(_waiting(target))} waiting.",
        ),
    )


def _held_change(held: TargetState, now: datetime) -> Change:
    label = held.get_target_display()
    waiting = _pushes(_waiting(held.target))
    return Change(
        NoticeKind.RAISED,
        f"{label} is unavailable since {_clock(held.failing_since)}, {waiting} waiting",
        _text(
            f"{label} has failed every push since {_clock(held.failing_since)}: {held.failing_reason}.",
            f"{waiting} waiting. The worker holds them back and tries one now and then (every {longest_hold():g} s "
            "at the longest); they are sent once it answers.",
            f"The calls: {_link('sync:attempt-list')}?target={held.target}&outcome=error",
        ),
        AlertState.RAISED,
        since=now,
    )


def _recovered(recent: dict, now: datetime) -> bool:
    """Nothing failed within the window, or nothing for ALERT_RECOVERY_MINUTES and a push went through since.

    A success alone is not enough: with some calls failing and others not, the alert would come and go at every
    sweep. Nor is the count dropping below the threshold: that waits for the outage to leave the window.
    """
    last_failure, last_success = recent["last_failure"], recent["last_success"]
    if last_failure is None:
        return True
    quiet = last_failure <= now - timedelta(minutes=settings.ALERT_RECOVERY_MINUTES)
    return quiet and last_success is not None and last_success > last_failure


def _frequent_errors(target: str, start: datetime, now: datetime) -> str:
    rows = (
        PushAttempt.objects.filter(FAILED_ATTEMPT, target=target, created_at__gt=start, created_at__lte=now)
        .order_by()
        .values("error_message")
        .annotate(count=Count("id"))
        .order_by("-count")[:3]
    )
    return "; ".join(f"{_short(row['error_message'] or 'no message', 120)} ({row['count']})" for row in rows)


@dataclass(frozen=True)
class FailedRow:
    noun: str  # "customer", "contact"
    name: str
    reason: str
    failed_at: datetime | None


def _failed_records_change(alert: Alert, target: str, now: datetime) -> Change | None:
    """Raised while any record (or link) of the target is failed. A notice when it is raised, then one per window at
    most while records go on failing, counting those failed since the last notice; one when none is left."""
    groups = _failed_groups(target)
    total = sum(group.rows.count() for group in groups)
    if not total:
        if not alert.raised:
            return None
        return _recovery(
            alert,
            now,
            "no failed records left",
            lambda label, lasted: (f"Every record that failed to push to {label} has been sent or fixed since.",),
            notified_until=alert.notified_until,
        )
    label = Target(target).label
    window = timedelta(minutes=settings.ALERT_WINDOW_MINUTES)
    if alert.raised and alert.last_notified_at and now - alert.last_notified_at < window:
        return None  # the next notice counts these too
    new = [_failed_after(group, alert.notified_until) for group in groups]
    figures = [group.rows.aggregate(count=Count("pk"), newest=Max("sync_error_at")) for group in new]
    count = sum(figure["count"] for figure in figures)
    if alert.raised and not count:
        return None
    if not count:  # failed before the last notice yet not told since the alert cleared: tell them all
        new, count = groups, total
        figures = [group.rows.aggregate(newest=Max("sync_error_at")) for group in groups]
    newest = max((figure["newest"] for figure in figures if figure["newest"]), default=alert.notified_until)
    listed = _listed(new)
    what = upstream.facts(target).noun
    lines = [f"- {row.noun} “{row.name}”: {row.reason}" for row in listed]
    if count > len(listed):
        lines.append(f"- and {count - len(listed)} more")
    since_last = " since the last notice" if alert.raised else ""
    return Change(
        NoticeKind.MORE if alert.raised else NoticeKind.RAISED,
        f"{label}: {count} {what}{_plural(count)} failed to push",
        _text(
            f"{count} {what}{_plural(count)} failed to push to {label}{since_last} ({total} failed in all). "
            "They keep their edits here until someone fixes or retries them.",
            *lines,
            f"See them and retry: {_link('sync:queue')}#failed-title",
        ),
        AlertState.RAISED,
        since=alert.since if alert.raised else now,
        notified_until=newest,
    )


@dataclass(frozen=True)
class FailedGroup:
    noun: str  # "customer", "contact"
    rows: object  # a QuerySet of failed records or links
    link: bool = False  # rows are a secondary target's links: named by their contact


def _failed_groups(target: str) -> list[FailedGroup]:
    """The failed rows of each model: Qwoty's records of each entity, or a secondary target's links."""
    facts = upstream.facts(target)
    if not facts.pushes_links:
        return [
            FailedGroup(str(model._meta.verbose_name), model.objects.filter(sync_status=SyncStatus.FAILED))
            for model in facts.models()
        ]
    return [
        FailedGroup("contact", model.objects.filter(sync_status=SyncStatus.FAILED).select_related("contact"), link=True)
        for model in facts.models()
    ]


def _failed_after(group: FailedGroup, moment: datetime | None) -> FailedGroup:
    rows = group.rows if moment is None else group.rows.filter(sync_error_at__gt=moment)
    return FailedGroup(group.noun, rows, group.link)


def _listed(groups: list[FailedGroup]) -> list[FailedRow]:
    """The first LISTED failures, oldest first, whichever model they are of: at most LISTED rows read per model."""
    found = []
    for group in groups:
        for row in group.rows.order_by("sync_error_at")[:LISTED]:
            name = _short(str(row.contact if group.link else row), 80)
            reason = _short(row.sync_error or "no reason recorded", 200)
            found.append(FailedRow(group.noun, name, reason, row.sync_error_at))
    found.sort(key=lambda row: (row.failed_at is None, row.failed_at or timezone.now()))
    return found[:LISTED]


def _waiting(target: str) -> int:
    """Pushes waiting for the target: records (or links) pending or being pushed."""
    return sum(model.objects.filter(sync_status__in=IN_FLIGHT).count() for model in upstream.facts(target).models())


def _recovery(alert: Alert, now: datetime, what: str, lines, *, notified_until=None) -> Change:
    """An alert clears: "<target> recovered after <how long it was raised>: <what>", with `lines(label, lasted)`."""
    label = Target(alert.target).label
    lasted = _duration(now - (alert.since or now))
    return Change(
        NoticeKind.RECOVERED,
        f"{label} recovered after {lasted}: {what}",
        _text(*lines(label, lasted), f"Pushes: {_link('sync:queue')}"),
        AlertState.CLEAR,
        since=now,
        notified_until=notified_until,
    )


# -- who is told, and how -------------------------------------------------------------------------------


def alert_recipients() -> list[str]:
    """The Managers group's active users with an email address, then ALERT_EMAILS; each address once."""
    managers = (
        get_user_model()
        .objects.filter(groups__name=MANAGERS, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    found: dict[str, str] = {}
    for address in (*managers, *settings.ALERT_EMAILS):
        if address.strip():
            found.setdefault(address.strip().casefold(), address.strip())
    return list(found.values())


def _email(notice: AlertNotice) -> None:
    """Send the notice once. A mail server that refuses it is logged and noted on the notice, not retried: the
    dashboard shows the notice anyway, and a retry at every sweep would be the storm alerts must not be."""
    recipients = alert_recipients()
    if not recipients:
        return
    message = EmailMessage(SUBJECT_PREFIX + notice.subject, notice.body, to=recipients)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.error("Alert email not sent (%s): %s", notice.subject, exc)
        notice.email_error = redact(str(exc))[:500] or type(exc).__name__
    else:
        notice.emailed_to = len(recipients)
    AlertNotice.objects.filter(pk=notice.pk).update(emailed_to=notice.emailed_to, email_error=notice.email_error)


def _text(*lines: str) -> str:
    footer = "You receive this as one of the back office's managers (or listed in ALERT_EMAILS)."
    return "\n\n".join((*lines, footer)) + "\n"


def _link(name: str) -> str:
    return f"{settings.BACKOFFICE_URL}{reverse(name)}"


def _clock(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {local.tzname()} on {local.day} {local:%b}"


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _pushes(count: int) -> str:
    return f"{count} push{'es' if count != 1 else ''}"


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
