"""Reads shared by every entity: push health, dashboard figures and alerts, push histories and conflicts.

Change histories (who changed what) are in backoffice/ui/history.py."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Func, IntegerField, Q, Subquery, Value

from backoffice.db import row_counts
from backoffice.records import KINDS, Kind, kind_of
from backoffice.sync.http.errors import DOWN_KINDS
from backoffice.sync.models import Alert, AlertNotice, AlertState, PushAttempt, SyncStatus, Target, TargetState
from backoffice.ui.history import field_label

IN_FLIGHT = (SyncStatus.PENDING, SyncStatus.PUSHING)


@dataclass(frozen=True)
class PushHealth:
    paused: bool
    paused_reason: str
    paused_at: datetime | None
    failed: int
    # Secondary targets (Prioticket, Koywe) paused after refusing our credentials.
    paused_elsewhere: tuple[TargetState, ...] = ()
    # Targets whose pushes a worker holds back, their calls failing as a target that is down fails.
    failing: tuple[TargetState, ...] = ()


def _failed_count(model) -> Subquery:
    # A scalar COUNT(*) (Func, not Count: no GROUP BY), so an index on sync_status answers it alone.
    failed = model.objects.filter(sync_status=SyncStatus.FAILED).order_by()
    return Subquery(
        failed.values(n=Func(template="COUNT(*)", output_field=IntegerField())), output_field=IntegerField()
    )


def push_health() -> PushHealth:
    """Is pushing paused (a refused token) or held back (a target down), and how many records failed to reach
    Qwoty: the layout's banners.

    One query on every page once Qwoty's target has a state row (the push layer creates it on its first
    push): its row, with the failed count, and the rows of any secondary target paused or held back.
    """
    failed = sum((_failed_count(kind.model) for kind in KINDS.values()), Value(0))
    states = list(
        TargetState.objects.filter(Q(target=Target.QWOTY) | Q(paused=True) | Q(failing_since__isnull=False))
        .annotate(failed=failed)
        .order_by("target")
    )
    elsewhere = tuple(state for state in states if state.target != Target.QWOTY and state.paused)
    failing = tuple(state for state in states if state.failing_since and not state.paused)
    state = next((state for state in states if state.target == Target.QWOTY), None)
    if state is None:  # nothing was ever pushed to Qwoty
        failed = sum(kind.model.objects.filter(sync_status=SyncStatus.FAILED).count() for kind in KINDS.values())
        return PushHealth(
            paused=False, paused_reason="", paused_at=None, failed=failed, paused_elsewhere=elsewhere, failing=failing
        )
    return PushHealth(
        paused=state.paused,
        paused_reason=state.paused_reason,
        paused_at=state.paused_at,
        failed=state.failed,
        paused_elsewhere=elsewhere,
        failing=failing,
    )


@dataclass(frozen=True)
class EntityCounts:
    kind: Kind
    total: int
    in_flight: int
    failed: int
    conflict: int
    approximate: bool = False  # `total` is PostgreSQL's estimate, rounded

    @property
    def total_label(self) -> str:
        return f"about {self.total:,}" if self.approximate else f"{self.total:,}"


@dataclass(frozen=True)
class DashboardSummary:
    entities: list[EntityCounts]

    @property
    def in_flight(self) -> int:
        return sum(row.in_flight for row in self.entities)

    @property
    def failed(self) -> int:
        return sum(row.failed for row in self.entities)


# Past this many rows (PostgreSQL's estimate), a table is not counted for the dashboard: COUNT(*) reads an index entry
# per row (60-90 ms for 3,000,000 contacts), so the estimate is shown instead, unless the table's count is kept.
APPROXIMATE_FROM = 100_000
NOT_SYNCED = (*IN_FLIGHT, SyncStatus.FAILED, SyncStatus.CONFLICT)


def dashboard_summary(user) -> DashboardSummary:
    """Records, pushes in flight, failures and conflicts of each entity the user may see; one query each (and, on
    PostgreSQL, one for the sizes of their tables).

    The records not synced are counted from the sync status index, the total by COUNT(*), which reads the table's
    narrowest index (not the aggregate over every row it was: 60 ms for 300,000 contacts on SQLite). A large table
    on PostgreSQL is not counted: its total is its exact count where one is kept (backoffice/db/row_counts.py), else
    the planner's estimate, shown as approximate.
    """
    kinds = [kind for kind in KINDS.values() if kind.can_view(user)]
    sizes = table_sizes([kind.model._meta.db_table for kind in kinds])
    rows = []
    for kind in kinds:
        counted, estimate = sizes.get(kind.model._meta.db_table, (None, None))
        approximate = counted is None and estimate is not None and estimate >= APPROXIMATE_FROM
        total, by_status = _sync_figures(kind.model, count=counted is None and not approximate)
        rows.append(
            EntityCounts(
                kind=kind,
                total=total if total is not None else counted if counted is not None else _rounded(estimate),
                approximate=approximate,
                in_flight=sum(by_status.get(status, 0) for status in IN_FLIGHT),
                failed=by_status.get(SyncStatus.FAILED, 0),
                conflict=by_status.get(SyncStatus.CONFLICT, 0),
            )
        )
    return DashboardSummary(entities=rows)


def _sync_figures(model, *, count: bool) -> tuple[int | None, dict[str, int]]:
    """How many records of `model` are in each status other than synced, and (if `count`) how many there are."""
    table = connection.ops.quote_name(model._meta.db_table)
    statuses = ", ".join(["%s"] * len(NOT_SYNCED))
    sql = f"SELECT sync_status, count(*) FROM {table} WHERE sync_status IN ({statuses}) GROUP BY sync_status"
    if count:
        sql = f"SELECT NULL, count(*) FROM {table} UNION ALL {sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(NOT_SYNCED))
        figures = dict(cursor.fetchall())
    return figures.pop(None, None), figures


@dataclass(frozen=True)
class AlertBoard:
    active: list[Alert]
    notices: list[AlertNotice]


def alert_board(*, notices: int = 8) -> AlertBoard:
    """The dashboard's alerts: those raised now, oldest first, but paused targets (every page's banner says so),
    and the latest notices sent. Two queries."""
    active = Alert.objects.filter(state=AlertState.RAISED).exclude(key__endswith=":paused").order_by("since")
    return AlertBoard(active=list(active), notices=list(AlertNotice.objects.all()[:notices]))


def table_sizes(tables: list[str]) -> dict[str, tuple[int | None, int | None]]:
    """PostgreSQL: each table's (exact count if kept, planner's estimate if known) in one query; {} on SQLite.

    The estimate is pg_class.reltuples, as VACUUM and ANALYZE (autovacuum) last left it: -1 if never.
    """
    if connection.vendor != "postgresql" or not tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT relname, counted.row_count, reltuples FROM pg_class "
            f"LEFT JOIN {row_counts.COUNTS_TABLE} AS counted ON counted.table_name = relname "
            "WHERE pg_class.oid = ANY(%s::regclass[])",
            [tables],
        )
        return {
            table: (counted, int(estimate) if estimate >= 0 else None) for table, counted, estimate in cursor.fetchall()
        }


def _rounded(estimate: int) -> int:
    """An estimate to two significant digits: 1,000,000 rather than 999,873, which reads as exact."""
    return round(estimate, 2 - len(str(estimate))) if estimate >= 100 else estimate


def record_push_attempts(record, *, target: str = Target.QWOTY, limit: int = 20) -> list[PushAttempt]:
    """The latest calls made to one target for one record, newest first."""
    return list(_attempts(record, target).select_related("user")[:limit])


def _attempts(record, target: str):
    """The calls made to `target` for `record`, newest first."""
    return PushAttempt.objects.filter(target=target, resource=kind_of(record).resource, record_id=record.pk)


@dataclass(frozen=True)
class ConflictField:
    label: str
    local: object
    upstream: object


def save_outcome(record) -> str:
    """What became of a record's latest save, for the notice under its edit form: "sending", "retrying", "paused"
    (Qwoty refused our token: it waits for a manager), "synced", "conflict", "refused" (Qwoty said no: the value is
    to fix) or "unreachable" (its retries ran out without Qwoty taking it: retry later)."""
    status = record.sync_status
    if status in (SyncStatus.SYNCED, SyncStatus.CONFLICT):
        return status
    if status == SyncStatus.FAILED:
        last = _attempts(record, Target.QWOTY).values_list("error_kind", flat=True).first()
        return "unreachable" if last in DOWN_KINDS else "refused"
    if TargetState.objects.filter(target=Target.QWOTY, paused=True).exists():
        return "paused"
    return "retrying" if record.push_attempts else "sending"


def conflict_fields(record) -> list[ConflictField]:
    """The fields changed both here and in Qwoty, from the record's `sync_conflict`."""
    kind = kind_of(record)
    return [
        ConflictField(field_label(kind, name), sides.get("local"), sides.get("upstream"))
        for name, sides in (record.sync_conflict or {}).items()
    ]
