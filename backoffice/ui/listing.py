"""List pages that stay fast on large tables: search terms, whitelisted sorting, cheap pagination.

Pagination reads the ids of the page and of at most COUNT_CAP rows after it: that tells whether a
next page exists and how many rows follow, so a keystroke never costs an unbounded COUNT(*).
"""

import functools
import operator
import re
import uuid
from dataclasses import dataclass

from django import forms
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Aggregate, CharField, F, Lookup, OrderBy, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.db.models.sql.where import WhereNode

from backoffice.db import row_counts
from backoffice.db.folding import folded_contains
from backoffice.sync.models import SyncStatus

COUNT_CAP = 500  # "1-100 of 500+": enough to tell a broad search from a narrow one
PER_PAGE_CHOICES = (25, 50, 100)
MAX_TERMS = 8
MAX_TERM_LENGTH = 100
PAGING = ("page", "per_page")


@dataclass(frozen=True)
class Page:
    rows: list
    number: int
    per_page: int
    has_next: bool
    count: int  # exact, or COUNT_CAP when there are more
    count_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


def paginate(queryset: QuerySet, *, number: int, per_page: int) -> Page:
    """One page of `queryset` in two queries whatever its size or depth (a third only past the last page).

    1. The ids from this page on, at most COUNT_CAP + 1: read from an index for the usual sorts, so
       skipping to page 1,000 does not load 100,000 rows; what follows the page gives the count.
       A page past the middle of a whole table whose rows are counted (PostgreSQL, backoffice/db/row_counts.py) is
       read backwards from its last row instead: page 10,000 of 1,000,000 skips no row rather than 999,900.
    2. The page's rows by id, with what the selector annotates (prefetches add their own query).
    """
    offset = (number - 1) * per_page
    ids, total = _page_ids(queryset, offset=offset, per_page=per_page)
    has_next = (offset + per_page < total) if total is not None else len(ids) > per_page
    rows = []
    if ids:
        to_python = queryset.model._meta.pk.to_python
        shown = [to_python(pk) for pk in ids[:per_page]]
        by_id = {row.pk: row for row in _unfiltered(queryset).filter(pk__in=shown)}
        rows = [by_id[pk] for pk in shown if pk in by_id]
    if total is not None:
        following = total - offset  # this page's rows and those after it
        count, capped = offset + min(following, COUNT_CAP), following > COUNT_CAP
    elif ids or number == 1:
        count, capped = offset + min(len(ids), COUNT_CAP), len(ids) > COUNT_CAP
    else:
        # Past the last page (an old bookmark): say how many there are, still capped.
        counted = capped_count(queryset, COUNT_CAP)
        count, capped = counted.value, counted.capped
    return Page(
        rows=rows,
        number=number,
        per_page=per_page,
        has_next=has_next,
        count=count,
        count_capped=capped,
    )


def _page_ids(queryset: QuerySet, *, offset: int, per_page: int) -> tuple[list, int | None]:
    """The ids from `offset` on (at most COUNT_CAP + 1 of them), and the exact number of rows when that was read."""
    forward = queryset[offset : offset + COUNT_CAP + 1]
    if not (offset and _whole_counted_table(queryset)):
        return _raw_ids(forward), None
    return _ids_from_either_end(queryset, forward, offset=offset, per_page=per_page)


def _whole_counted_table(queryset: QuerySet) -> bool:
    """Whether `queryset` is a counted table's every row in a total order (the primary key last, as `ordering` puts
    it), so that the table's count says where a page is and the reversed order holds the same pages."""
    query = queryset.query
    return (
        row_counts.is_counted(queryset.model._meta.db_table, connections[queryset.db])
        and not query.where
        and not query.distinct
        and query.group_by is None
        and not query.combinator
        and not query.is_sliced
        and bool(query.order_by)
        and _is_primary_key(queryset.model, query.order_by[-1])
    )


def _is_primary_key(model, order) -> bool:
    if isinstance(order, OrderBy):
        order = order.expression
    name = order.name if isinstance(order, F) else str(order).removeprefix("-")
    return name in ("pk", model._meta.pk.name, model._meta.pk.attname)


def _ids_from_either_end(
    queryset: QuerySet, forward: QuerySet, *, offset: int, per_page: int
) -> tuple[list, int | None]:
    """One query: the table's count decides, in the database, which way to read the page (no count: forwards).

    Forwards: the ids from `offset` on, as `_raw_ids` reads them, with no total. Backwards, once `offset` is past
    the middle: the page's ids read in the opposite order (the same rows, since the order ends with the primary
    key), skipping only the rows after the page, with the count read in the same statement (so the same snapshot).
    Each part runs only if its condition holds (a one-time filter).
    """
    try:
        forward_sql, forward_params = forward.values_list("pk").query.sql_with_params()
        backward_sql, backward_params = queryset.reverse().values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return [], None
    total_sql, total_params = row_counts.counted_sql(queryset.model._meta.db_table)
    sql = f"""WITH bounds AS MATERIALIZED (
        SELECT total, total < 2 * start AS backwards,
            greatest(least(size, total - start), 0) AS size, greatest(total - start - size, 0) AS skip
        FROM (SELECT {total_sql} AS total, %s::bigint AS start, %s::bigint AS size) AS asked
    )
    SELECT page.*, NULL::bigint FROM ({forward_sql}) AS page WHERE NOT coalesce((SELECT backwards FROM bounds), false)
    UNION ALL
    SELECT page.*, (SELECT total FROM bounds) FROM (
        {backward_sql} LIMIT (SELECT size FROM bounds) OFFSET (SELECT skip FROM bounds)
    ) AS page WHERE (SELECT backwards FROM bounds)"""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, (*total_params, offset, per_page, *forward_params, *backward_params))
        rows = cursor.fetchall()
    if rows and rows[0][-1] is not None:
        return [row[0] for row in reversed(rows)], rows[0][-1]
    return [row[0] for row in rows], None


@dataclass(frozen=True)
class CappedCount:
    """A count that stops at a cap, shown "10,000+" past it: what a figure needs, without reading every row."""

    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}{'+' if self.capped else ''}"

    def __bool__(self) -> bool:
        return self.value > 0


def capped_count(queryset: QuerySet, cap: int) -> CappedCount:
    """How many rows `queryset` has, reading at most `cap` + 1 of them."""
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    return CappedCount(min(counted, cap), counted > cap)


class JoinedLines(Aggregate):
    """A group's values as one string, a line each: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL.

    Lets a list show a few related values per row (a customer's tax IDs) inside its row query.
    """

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, '\n')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def _unfiltered(queryset: QuerySet) -> QuerySet:
    """The selector's query (columns, annotations, joins) without its WHERE: the ids already passed it.

    Saves running a search twice, e.g. its tax-ID subquery. Relies on Query.where, Django's internals.
    """
    queryset = queryset.all()
    queryset.query.where = WhereNode()
    return queryset


def _raw_ids(queryset: QuerySet) -> list:
    """The primary keys as the database returns them: converting a thousand to UUID costs more than the query."""
    try:
        sql, params = queryset.values_list("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (say, `pk__in=[]`): Django never asks the database
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def ordering(sort: str, columns: dict[str, tuple[str, ...]]) -> list:
    """ORDER BY for a whitelisted sort key ("name" or "-name"); id breaks ties.

    Ascending is the database's plain order, so an index on the columns serves it (SQLite cannot
    use one for NULLS LAST); descending puts empty values last.
    """
    key = sort.removeprefix("-")
    fields = (*columns[key], "pk")
    if sort.startswith("-"):
        return [F(name).desc(nulls_last=True) for name in fields]
    return [F(name).asc() for name in fields]


NUMBER = re.compile(r"[\d\s+().\-/]*\d[\d\s+().\-/]*")


def search_terms(query: str) -> list[str]:
    """The words of a search box: every one must match (in any field).

    A number typed with spaces ("06 99 88 77 66") stays one term: it is a phone or an id, not words.
    """
    query = query.strip()
    if NUMBER.fullmatch(query):
        return [query[:MAX_TERM_LENGTH]]
    return [term[:MAX_TERM_LENGTH] for term in query.split()[:MAX_TERMS]]


def matching_all(query: str, term_matches) -> Q:
    """AND over the query's terms of `term_matches(term)`, an OR over the searched fields."""
    condition = Q()
    for term in search_terms(query):
        condition &= term_matches(term)
    return condition


def folded_contains_any(term: str, fields: tuple[str, ...]) -> Q:
    """One of `fields` contains `term`, whatever the case and accents of either ("muller" finds "Müller").

    Each field must be folded in the database: a FoldedColumns (backoffice/db/folding.py) of its table.
    """
    condition = Q()
    for name in fields:
        condition |= folded_contains(name, term)
    return condition


def matching_any(model, *conditions: Q) -> Q:
    """Rows of `model` matching one of `conditions`, in the shape each database's planner reads quickest.

    SQLite: one OR, which a scan in the list's order stops reading once a page is full (a word in thousands of
    names fills it within a few hundred rows). PostgreSQL: `pk IN (a UNION b ...)`, a part per condition, each read
    from its own index. There an OR of a trigram match with a subquery or another table's column cannot use the
    trigram index, and folds every row instead.
    """
    if connection.vendor != "postgresql":
        return functools.reduce(operator.or_, conditions)
    first, *others = (model.objects.filter(condition).order_by().values("pk") for condition in conditions)
    return Q(pk__in=first.union(*others))


class _EqualsAny(Lookup):
    """`field = ANY(ARRAY(subquery))`, PostgreSQL's."""

    lookup_name = "equals_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        field, field_params = self.process_lhs(compiler, connection)
        subquery, subquery_params = self.process_rhs(compiler, connection)
        return f"{field} = ANY(ARRAY{subquery})", (*field_params, *subquery_params)


def in_subquery(field: str, subquery) -> Q:
    """`field IN (subquery)`, which PostgreSQL may read from an index even as one part of an OR.

    There it is written `field = ANY(ARRAY(subquery))`: the same rows, but the subquery runs once, first, and the
    condition is an index condition. So an OR of it and trigram matches can be read from the indexes (a BitmapOr),
    and the planner may still choose to scan in the list's order when a page fills quickly. An OR with
    `IN (subquery)` can do neither: it folds every row.
    """
    if connection.vendor == "postgresql":
        # Unlike IN, ARRAY() keeps the subquery's order: no sorting it by its model's default order.
        return Q(_EqualsAny(F(field), subquery.order_by() if isinstance(subquery, QuerySet) else subquery))
    return Q(**{f"{field}__in": subquery})


def id_match(term: str) -> Q:
    """A pasted record id finds its record."""
    try:
        return Q(pk=uuid.UUID(term))
    except ValueError:
        return Q(pk__in=[])


def compact(term: str) -> str:
    """A phone number or tax ID as typed, without the spaces, dots, dashes and brackets people put in."""
    return re.sub(r"[\s.\-()/]", "", term)


SEPARATORS = (" ", ".", "-", "(", ")", "/")


def compacted(field: str):
    """The database side of `compact()`: the column without separators, so "+33 6 12" matches "+33612"."""
    expression = F(field)
    for separator in SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def sort_choices(columns: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(key, key) for key in columns] + [(f"-{key}", f"-{key}") for key in columns]


class SearchField(forms.CharField):
    """A search's text, never refused: cut to `max_length`, NUL characters dropped. Refused, it would fall back to
    no search, and list every record as if they all matched."""

    def to_python(self, value):
        return super().to_python(str(value or "").replace("\x00", "")[: self.max_length])  # then stripped


class ListParams(forms.Form):
    """Query-string parameters shared by every list; invalid values fall back to their default."""

    q = SearchField(required=False, max_length=200, strip=True)
    sync_status = forms.ChoiceField(required=False, choices=[("", "Any sync status"), *SyncStatus.choices])
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, n) for n in PER_PAGE_CHOICES], empty_value=PER_PAGE_CHOICES[0]
    )
    sort = forms.ChoiceField(required=False)

    #: sort key → model fields, set by each list
    sort_columns: dict[str, tuple[str, ...]] = {}
    default_sort = ""

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)
        self.fields["sort"].choices = sort_choices(self.sort_columns)

    def values(self) -> dict:
        """The cleaned parameters, each invalid one replaced by its default."""
        self.is_valid()
        values = {name: self.cleaned_data.get(name) for name in self.fields}
        values["q"] = values["q"] or ""
        values["page"] = values["page"] or 1
        values["per_page"] = values["per_page"] or PER_PAGE_CHOICES[0]
        values["sort"] = values["sort"] or self.default_sort
        return values

    def filters(self) -> dict:
        """The selector's keyword arguments: search, filters and sort (pagination is applied after)."""
        values = self.values()
        return {name: ("" if value is None else value) for name, value in values.items() if name not in PAGING}

    def is_filtering(self) -> bool:
        """Whether any search or filter narrows the list (to tell "no results" from "no records")."""
        filters = self.filters()
        return any(filters[name] for name in filters if name != "sort")
