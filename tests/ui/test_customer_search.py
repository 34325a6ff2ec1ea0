"""The customer search: whatever the case and accents on both databases; on SQLite the trigram index behind it gives
the same answers as the scan, both kept current by triggers."""

import uuid

import pytest
from django.core import checks
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backoffice.db import folding
from backoffice.db.folding import folded_contains
from catalogs.models import Catalog
from catalogs.selectors import catalog_list
from contacts.models import Contact
from contacts.selectors import contact_list
from customers import search_index
from customers.models import Customer, TaxId
from customers.selectors import customer_list
from customers.tax_ids.selectors import _customers_named, taxid_list
from tests import factories

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index and folded columns")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram index")


def found(q: str) -> set[str]:
    return set(customer_list(q=q).values_list("name", flat=True))


def found_by_scan(q: str, monkeypatch) -> set[str]:
    with monkeypatch.context() as patch:
        patch.setattr(search_index, "available", lambda text: False)
        return found(q)


def query_plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " / ".join(row[-1] for row in cursor.fetchall())


@sqlite_only
def test_an_identifier_is_looked_up_in_the_index_not_by_reading_every_customer():
    sql, params = customer_list(q="FR403").query.sql_with_params()
    plan = query_plan(sql, params)
    assert "customers_search VIRTUAL TABLE" in plan
    assert "SCAN customers_customer" not in plan, plan


@sqlite_only
def test_a_word_is_scanned_in_name_order_from_an_index_of_the_folded_columns():
    """Reading the folded columns from each customer's row made a search for a rare word five times slower.

    The page's ids, as pagination asks for them first: from the index alone."""
    sql, params = customer_list(q="gonzalez").values_list("pk").query.sql_with_params()
    plan = query_plan(sql, params)
    assert "SCAN customers_customer USING COVERING INDEX customers_customer_folded" in plan, plan


@sqlite_only
def test_only_words_with_a_digit_and_three_characters_use_the_index():
    assert search_index.covers("FR403")
    assert search_index.covers("ERP-7")
    assert not search_index.covers("Acme")  # a word: the scan in name order is quicker to fill a page
    assert not search_index.covers("42")  # too short for trigrams
    assert not search_index.covers("4-2")  # its compact form is too short
    assert search_index.available("Acme")  # but its tax-value part does


@sqlite_only
def test_a_word_looks_up_tax_values_in_the_index_not_by_reading_every_tax_id():
    sql, params = customer_list(q="Acme").query.sql_with_params()
    assert "SCAN customers_taxid" not in query_plan(sql, params)
    assert "tax_values" in params[-1]


def test_search_follows_every_kind_of_write():
    """On SQLite through the index's triggers; on PostgreSQL the scan reads the rows as they are."""
    acme = factories.CustomerFactory(name="Acme 2000", id_crm="CRM-1001")
    assert found("2000") == found("crm-1001") == {"Acme 2000"}

    Customer.objects.filter(pk=acme.pk).update(name="Acme 3000")  # no save(), no signal
    assert found("2000") == set()
    assert found("3000") == {"Acme 3000"}

    tax_id = TaxId.objects.create(customer=acme, tax="eu_vat", tax_value="FR40303265045")
    assert found("FR 403 032") == {"Acme 3000"}
    TaxId.objects.filter(pk=tax_id.pk).update(tax_value="DE123456789")
    assert found("403032") == set()
    assert found("DE1234") == {"Acme 3000"}
    TaxId.objects.create(customer=acme, tax="fr_siren", tax_value="303265045")
    assert found("DE1234") == found("3032650") == {"Acme 3000"}  # every tax value of the customer
    tax_id.delete()
    assert found("DE1234") == set()

    Customer.objects.bulk_create(
        [Customer(id=uuid.uuid4(), name="Bulk 4000"), Customer(id=uuid.uuid4(), name="Bulk 4001")]
    )
    assert found("400") == {"Bulk 4000", "Bulk 4001"}

    acme.delete()
    assert found("3000") == found("3032650") == set()


@pytest.mark.parametrize("typed", ["76.086.428-5", "760864285", "086.428", "08642"])
def test_a_tax_value_is_found_with_or_without_its_separators(typed):
    rut = factories.CustomerFactory(name="Andes Ltda")
    TaxId.objects.create(customer=rut, tax="cl_tin", tax_value="76.086.428-5")
    assert found(typed) == {"Andes Ltda"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Gonzalez", {"González SA", "Gonzalez Ltda"}),
        ("gonzález", {"González SA", "Gonzalez Ltda"}),  # the term is folded too
        ("GONZÁLEZ", {"González SA", "Gonzalez Ltda"}),
        ("muller", {"Müller GmbH"}),
        ("MULLER", {"Müller GmbH"}),
        ("muller gmbh", {"Müller GmbH"}),
        ("strasse", {"Straße 12 AG"}),  # letters spelt out: ß ss, æ ae, ø o, ł l, đ d
        ("aero", {"Ærø Shipping"}),
        ("lodz", {"Łódź Textil"}),
        ("dorde", {"Đorđe Trade"}),
        ("crm-e7", {"Müller GmbH"}),  # external ids too
    ],
)
def test_search_ignores_case_and_accents_on_both_sides(typed, expected):
    for name in ("González SA", "Gonzalez Ltda", "Straße 12 AG", "Ærø Shipping", "Łódź Textil", "Đorđe Trade"):
        factories.CustomerFactory(name=name)
    factories.CustomerFactory(name="Müller GmbH", id_erp="CRM-É7")
    assert found(typed) == expected


def test_a_word_with_a_digit_ignores_accents_too():
    """Such a word is looked up in the trigram index on SQLite, which holds the folded name and ids."""
    factories.CustomerFactory(name="Café24 Société", id_crm="ÑU-2024")
    assert found("cafe24") == found("CAFÉ24") == found("nu-202") == {"Café24 Société"}


def test_accent_search_follows_every_kind_of_write():
    """On SQLite the folded copies are kept by triggers, which a queryset update or a bulk insert also fires."""
    customer = factories.CustomerFactory(name="Nuñez Hermanos", id_crm="CRM-1")
    assert found("nunez") == {"Nuñez Hermanos"}
    customer.name = "Peña Hermanos"
    customer.save()
    assert found("nunez") == set()
    assert found("pena") == {"Peña Hermanos"}

    Customer.objects.filter(pk=customer.pk).update(name="Åström Hermanos", id_erp="ÉRP-9")  # no save(), no signal
    assert found("pena") == set()
    assert found("astrom") == found("erp-9") == {"Åström Hermanos"}

    Customer.objects.bulk_create([Customer(id=uuid.uuid4(), name="Ørsted Bulk")])
    assert found("orsted") == {"Ørsted Bulk"}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET name = %s WHERE name = %s", ["Øresund Raw", "Ørsted Bulk"])
    assert found("oresund") == {"Øresund Raw"}


def test_the_tax_id_review_finds_customer_names_whatever_the_accents():
    gonzalez = factories.CustomerFactory(name="Comercial González Ltda")
    TaxId.objects.create(customer=gonzalez, tax="cl_tin", tax_value="76.086.428-5")
    factories.CustomerFactory(name="Muller AG")
    assert set(_customers_named(["gonzalez", "LTDA"])) == {gonzalez.pk}
    assert set(_customers_named(["GONZÁ"])) == {gonzalez.pk}
    assert set(_customers_named(["ÉZ"])) == {gonzalez.pk}  # too short for the index: scanned, folded too
    assert [row.customer_id for row in taxid_list(q="comercial gonzalez")] == [gonzalez.pk]


@pytest.fixture
def thousands_of_records():
    """Enough rows, with statistics, for PostgreSQL's planner to weigh an index against reading the table."""
    customers = Customer.objects.bulk_create(
        [Customer(id=uuid.uuid4(), name=f"Company {n}", id_crm=f"CRM-{n}") for n in range(3000)]
    )
    Contact.objects.bulk_create(
        [
            Contact(id=uuid.uuid4(), customer=customer, first_name="Ana", last_name=f"Silva {n}", email=f"{n}@ex.org")
            for n, customer in enumerate(customers)
        ]
    )
    Catalog.objects.bulk_create([Catalog(id=uuid.uuid4(), name=f"Range {n}") for n in range(3000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@postgresql_only
@pytest.mark.usefixtures("thousands_of_records")
@pytest.mark.parametrize(
    ("select", "index"),
    [
        (lambda: customer_list(q="gonzalez"), "customers_customer_folded"),
        (lambda: contact_list(q="gonzalez"), "contacts_contact_folded"),
        (lambda: contact_list(q="gonzalez"), "customers_customer_folded"),  # the customer's name
        (lambda: catalog_list(q="gonzalez"), "catalogs_catalog_folded"),
        (lambda: Customer.objects.filter(folded_contains("name", "gonzalez")), "customers_customer_folded"),
    ],
)
def test_postgresql_reads_the_trigram_index_of_folded_columns(select, index):
    """The folded expression a search compares is the one the index holds, and the term's fold is a constant.

    With 3,000 rows the planner may still find reading the table, or an index in the list's order, cheaper (with
    200,000 it reads the trigram index unasked): those are priced out, so the plan shows whether the trigram index
    can answer at all.
    """
    sql, params = select().query.sql_with_params()
    with connection.cursor() as cursor:
        for plan_type in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{plan_type} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Bitmap Index Scan on {index}" in plan, plan
    assert f"Seq Scan on {index.removesuffix('_folded')}" not in plan, plan


@sqlite_only
def test_a_save_that_changes_no_searched_field_leaves_the_index_alone():
    customer = factories.CustomerFactory(name="Quiet 123")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM customers_search WHERE customers_search MATCH '\"Quiet 123\"'")
        (before,) = cursor.fetchone()
        customer.type = Customer.Type.INDIVIDUAL
        customer.save()
        # An FTS5 update is a delete and an insert: the same rowid's content, read back unchanged (folded).
        cursor.execute("SELECT name FROM customers_search WHERE rowid = %s", [before])
        assert cursor.fetchone() == ("quiet 123",)
    assert found("123") == {"Quiet 123"}


# Names, ids and tax values from a small alphabet so that searches often match, with letters that fold: case,
# accents, and ß, which folds to two letters.
ALPHABET = 'aÁäbB1 2-"3.ß'
TEXT = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


@sqlite_only
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    customers=st.lists(
        st.tuples(TEXT, st.none() | TEXT, st.lists(TEXT, max_size=2)), min_size=1, max_size=6, unique_by=lambda c: c[0]
    ),
    query=st.text(alphabet=ALPHABET, min_size=3, max_size=8),
)
@example(customers=[("Acme", None, ["FR40303265045"])], query="403.032")  # typed with dots, stored without
@example(customers=[('Say "12a"', "ERP-12", [])], query='"12a"')  # a quote is a character, not FTS5 syntax
# Folded alike in the index and the scan (before, the index folded the case of every letter and LIKE only ASCII's).
@example(customers=[("Áb1", None, []), ("äb1", None, [])], query="áB1")
def test_the_index_finds_what_the_scan_finds(customers, query, monkeypatch):
    Customer.objects.all().delete()
    for name, id_erp, tax_values in customers:
        customer = Customer.objects.create(id=uuid.uuid4(), name=name, id_erp=id_erp)
        TaxId.objects.bulk_create([TaxId(customer=customer, tax="eu_vat", tax_value=value) for value in tax_values])
    assert found(query) == found_by_scan(query, monkeypatch)


@sqlite_only
def test_the_check_reports_a_lost_trigger():
    assert search_index.check_triggers(None, databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER customers_search_taxid_insert")  # rolled back with the test's transaction
    (warning,) = search_index.check_triggers(None, databases=["default"])
    assert warning.id == "customers.W001"
    # Not an error: `migrate` runs the checks before it applies the migration that repairs the index.
    assert warning.level == checks.WARNING
    assert "customers_search_taxid_insert" in warning.msg


@sqlite_only
def test_a_nul_in_a_search_word_is_no_error():
    factories.CustomerFactory(name="Acme 123")
    assert not search_index.available("12\x003")
    assert found("12\x003") == set()
    found("\x00123")  # answers (what SQLite's LIKE makes of a NUL is its business), never a 500


def rebuild_table(model, field_name: str) -> None:
    """Rebuild `model`'s table as SQLite alters a column: widened, then back (Django copies it into a new table)."""
    old = model._meta.get_field(field_name)
    wider = old.clone()
    wider.set_attributes_from_name(field_name)
    wider.max_length = old.max_length + 1
    with connection.schema_editor() as editor:
        editor.alter_field(model, old, wider)
        editor.alter_field(model, wider, old)


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_migration_can_rebuild_both_tables_and_then_reinstall_the_index():
    """How SQLite alters a column: a new table, the rows copied, the old one dropped, the new one renamed.
    No trigger may read the table being renamed, or the rename fails and so does the migration."""
    acme = factories.CustomerFactory(name="Acmé 2000")
    TaxId.objects.create(customer=acme, tax="eu_vat", tax_value="FR40303265045")
    for model, name in ((TaxId, "tax_value"), (Customer, "name")):
        rebuild_table(model, name)
    assert search_index.check_triggers(None, databases=["default"])  # the rebuilt tables lost theirs
    assert folding.check_shadow_columns(None, databases=["default"])  # and the customers their folded columns
    with connection.schema_editor() as editor:
        search_index.install(None, editor)
    assert search_index.check_triggers(None, databases=["default"]) == []
    assert folding.check_shadow_columns(None, databases=["default"]) == []
    assert found("FR 403 032") == found("2000") == found("acme") == found("ACMÉ 2000") == {"Acmé 2000"}
    Customer.objects.filter(pk=acme.pk).update(name="Ñandú 2000")
    assert found("nandu") == {"Ñandú 2000"}


@sqlite_only
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(TEXT, min_size=1, max_size=6, unique=True),
    words=st.lists(
        st.text(alphabet=ALPHABET, min_size=3, max_size=5).map(str.strip).filter(len), min_size=1, max_size=2
    ),
)
@example(names=["Acme Logística", "ACME lab"], words=["acme", "LOG"])
@example(names=["Acme SA", "Acme AB", "Sanofi"], words=["acme", "SA"])  # a word too short for the index
@example(names=["Ábß", "äbss", "ab"], words=["ábß", "B"])
def test_the_tax_id_review_finds_customers_by_name_as_the_scan_does(names, words, monkeypatch):
    Customer.objects.all().delete()
    for name in names:
        Customer.objects.create(id=uuid.uuid4(), name=name)
    by_index = set(_customers_named(words))
    # Undone before the next example: hypothesis runs them all with one monkeypatch.
    with monkeypatch.context() as patch:
        patch.setattr(search_index, "available", lambda text: False)
        assert by_index == set(_customers_named(words))
