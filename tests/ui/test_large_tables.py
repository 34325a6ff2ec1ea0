"""What keeps pages quick on a million rows (make bench-ui-pg): a deep page read from the list's end with an exact row
count kept by triggers, the dashboard's totals without COUNT(*), the role filter's statistics, segments looked up one
by one. The database's part is checked by what it reads (EXPLAIN ANALYZE), which the tables' small size here does
not hide."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.db import row_counts
from backoffice.ui import listing, selectors
from backoffice.ui.selectors import dashboard_summary
from catalogs.models import Catalog
from contacts.models import Contact
from contacts.selectors import role_filter
from customers.models import Customer
from customers.selectors import customer_list, customer_segments
from tests import factories

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers and planner")


def rows_read(sql: str, table: str) -> int:
    """How many rows of `table` the database reads to run `sql` (EXPLAIN ANALYZE: each scan's rows, the ones its
    filter removed included, times its loops)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]

    def read(node: dict) -> int:
        own = 0
        if node.get("Relation Name") == table:
            own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
        return own + sum(read(child) for child in node.get("Plans", ()))

    return read(plan["Plan"])


def count_kept(table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_count FROM {row_counts.COUNTS_TABLE} WHERE table_name = %s", [table])
        row = cursor.fetchone()
    return row[0] if row else None


def along_indexes():
    """Plans that read the tables through their indexes, as they would at a million rows (not a scan and a sort of
    a table this small)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")  # it reads one row more, to end its last group


# -- exact row counts --------------------------------------------------------------------------------------------------


@postgresql_only
def test_the_row_count_follows_inserts_deletes_and_truncate():
    table = Customer._meta.db_table
    assert count_kept(table) == 0
    factories.CustomerFactory.create_batch(3)
    Customer.objects.bulk_create([factories.CustomerFactory.build() for _ in range(4)])
    assert count_kept(table) == Customer.objects.count() == 7
    Customer.objects.filter(pk__in=list(Customer.objects.values_list("pk", flat=True)[:2])).delete()
    Customer.objects.first().delete()
    assert count_kept(table) == Customer.objects.count() == 4
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign key check may be pending at a TRUNCATE
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert count_kept(table) == 0
    assert count_kept(Contact._meta.db_table) == 0  # truncated by the cascade, and counted so


@postgresql_only
def test_a_missing_row_count_stays_unknown():
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {row_counts.COUNTS_TABLE} WHERE table_name = %s", [table])
    factories.CustomerFactory()
    assert count_kept(table) is None
    row_counts.recount(table)
    assert count_kept(table) == 1


# -- deep pages --------------------------------------------------------------------------------------------------------


def page_of(queryset, *, number: int, per_page: int):
    with CaptureQueriesContext(connection) as queries:
        page = listing.paginate(queryset, number=number, per_page=per_page)
    return page, queries.captured_queries[0]["sql"]


@postgresql_only
@pytest.mark.parametrize("per_page", [5, 25])
def test_a_page_past_the_middle_is_read_from_the_end_with_the_same_rows(per_page):
    factories.CustomerFactory.create_batch(61)
    in_order = list(Customer.objects.order_by("name", "pk"))
    along_indexes()
    pages = -(-len(in_order) // per_page)
    for number in range(1, pages + 1):
        offset = (number - 1) * per_page
        page, ids_query = page_of(customer_list(), number=number, per_page=per_page)
        assert [row.pk for row in page.rows] == [row.pk for row in in_order[offset : offset + per_page]], number
        assert page.has_next == (number < pages)
        assert (page.count, page.count_capped) == (len(in_order), False)
        if 2 * offset > len(in_order):
            # Backwards from the last row: the rows after the page and the page itself, not those before it.
            assert rows_read(ids_query, Customer._meta.db_table) <= len(in_order) - offset, number
    past_the_end, _ = page_of(customer_list(), number=pages + 3, per_page=per_page)
    assert (past_the_end.rows, past_the_end.count, past_the_end.has_next) == ([], len(in_order), False)


@postgresql_only
def test_a_page_is_read_forwards_when_the_count_is_unknown_or_the_list_filtered():
    factories.CustomerFactory.create_batch(30, name="Acme")
    factories.CustomerFactory.create_batch(10, name="Zephyr")
    last_acme = list(Customer.objects.filter(name="Acme").order_by("pk"))[25:]
    along_indexes()
    page, _ = page_of(customer_list(q="acme"), number=6, per_page=5)
    assert [row.pk for row in page.rows] == [row.pk for row in last_acme]
    assert (page.has_next, page.count) == (False, 30)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {row_counts.COUNTS_TABLE} WHERE table_name = %s", [Customer._meta.db_table])
    page, ids_query = page_of(customer_list(), number=8, per_page=5)
    assert [row.name for row in page.rows] == ["Zephyr"] * 5
    assert page.has_next is False
    assert rows_read(ids_query, Customer._meta.db_table) == 40


# -- the role filter ---------------------------------------------------------------------------------------------------


@postgresql_only
def test_the_planner_knows_how_many_contacts_hold_a_role():
    customer = factories.CustomerFactory()
    roles = [["legal"], ["buyer"], ["buyer", "signer"], [], ["billing"], ["admin", "legal"]]
    Contact.objects.bulk_create(
        [factories.ContactFactory.build(customer=customer, role=roles[n % len(roles)]) for n in range(600)]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        sql, params = Contact.objects.filter(role_filter("legal")).query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
    # Without statistics of the expression, the planner assumes 0.5% of the rows (3) where a third hold it: then it
    # reads a million contacts in parallel, rather than the list's index until a page is full.
    assert 150 <= plan["Plan"]["Plan Rows"] <= 250


# -- segments ----------------------------------------------------------------------------------------------------------


def test_segments_are_listed_once_each_in_order_looked_up_one_by_one():
    segments = sorted(uuid.uuid4() for _ in range(3))
    for segment in segments:
        factories.CustomerFactory.create_batch(40, segment_id=segment)
    factories.CustomerFactory.create_batch(3, segment_id=None)
    with CaptureQueriesContext(connection) as queries:
        assert customer_segments() == segments
    if connection.vendor == "postgresql":
        # Not every customer's index entry, as DISTINCT reads them: a lookup per segment.
        along_indexes()
        (query,) = queries.captured_queries
        assert rows_read(query["sql"], Customer._meta.db_table) <= 2 * (len(segments) + 1)


# -- dashboard ---------------------------------------------------------------------------------------------------------


def whole_table_counts(queries, table: str) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"]
        and f'FROM "{table}"' in query["sql"]
        and "WHERE" not in query["sql"].split(f'FROM "{table}"')[1]
    ]


@postgresql_only
def test_the_dashboard_reads_a_large_tables_kept_count_instead_of_counting_it(client, monkeypatch):
    monkeypatch.setattr(selectors, "APPROXIMATE_FROM", 1)
    factories.CustomerFactory.create_batch(3)
    failed = factories.CustomerFactory()
    Customer.objects.filter(pk=failed.pk).update(sync_status="failed")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    user = factories.manager_user()
    with CaptureQueriesContext(connection) as queries:
        (row,) = [row for row in dashboard_summary(user).entities if row.kind.model is Customer]
    assert (row.total, row.approximate, row.total_label, row.failed) == (4, False, "4", 1)
    assert whole_table_counts(queries.captured_queries, "customers_customer") == []


@postgresql_only
def test_the_dashboard_shows_an_estimate_of_a_large_table_it_keeps_no_count_of(client, monkeypatch):
    monkeypatch.setattr(selectors, "APPROXIMATE_FROM", 5)
    factories.CatalogFactory.create_batch(6)
    Catalog.objects.filter(pk=factories.CatalogFactory().pk).update(sync_status="conflict")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalogs_catalog")
    client.force_login(factories.manager_user())
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    assert '<span class="stat-value">about 7</span>' in page
    assert "1 in conflict" in page
    assert whole_table_counts(queries.captured_queries, "catalogs_catalog") == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans")
def test_the_dashboard_counts_records_from_indexes_not_rows():
    factories.ContactFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        dashboard_summary(factories.manager_user())
    counts = [query["sql"] for query in queries.captured_queries if "count(" in query["sql"].lower()]
    assert len(counts) == 3  # customers, contacts, catalogs
    for sql in counts:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            steps = [step for *_, step in cursor.fetchall() if step.startswith(("SCAN", "SEARCH"))]
        # Not the table's wide rows (their snapshot JSON): an index holds what is counted.
        assert steps, sql
        assert all("INDEX" in step for step in steps), steps


@pytest.mark.parametrize(
    ("estimate", "shown"), [(999_873, 1_000_000), (1_234_567, 1_200_000), (3_001_234, 3_000_000), (57, 57)]
)
def test_an_estimate_is_shown_to_two_significant_digits(estimate, shown):
    assert selectors._rounded(estimate) == shown
    row = selectors.EntityCounts(kind=None, total=shown, in_flight=0, failed=0, conflict=0, approximate=True)
    assert row.total_label == f"about {shown:,}"
