"""A trigram index of what the customer search reads, on SQLite: finds a tax or external id among 100,000
customers in milliseconds instead of reading every row.

SQLite cannot use an index for `LIKE '%term%'`, so a search that matches few customers reads the whole
table. An FTS5 table with the trigram tokenizer indexes every three characters of the name, external ids
and tax values, so a substring search reads only the rows that contain it. Database triggers keep it up
to date whatever writes the rows: ORM saves, queryset updates, bulk inserts, raw SQL.

The name and external ids are searched whatever their case and accents (backoffice/db/folding.py): the same
triggers keep a folded copy of each in a shadow column (`name_folded`...), which the scan reads, and the index
holds those folded copies. Tax values are indexed as they are, without separators. On PostgreSQL, `install`
creates the trigram index of the folded columns instead (`folding.FoldedColumns`).

FTS5 rows are keyed by an integer; `customers_search_key` gives each customer one that VACUUM never
renumbers (the rowid of a table with a UUID key may change).

A migration that rebuilds customers_customer or customers_taxid (how SQLite alters a column) drops their
triggers, and customers_customer its folded columns: end it with
`migrations.RunPython(search_index.install, search_index.uninstall)`. Until then the checks `customers.W001`
and `backoffice.W001` warn, and the search tests fail.
"""

from django.core import checks
from django.db import connection

from backoffice.db.folding import FoldedColumns, fold, shadow
from backoffice.ui.listing import SEPARATORS, compact

MIN_LENGTH = 3  # the trigram tokenizer matches nothing shorter

# What the customer list searches folded (customers/selectors.py); this module's triggers keep their shadows.
FOLDED = FoldedColumns(
    "customers_customer",
    ("name", "id_crm", "id_erp", "id_accounting"),
    migration=("customers", "0008_folded_search"),
    install_function="customers.search_index.install",
    own_triggers=False,
    # A word is searched by a scan in name order (see covers()), which stops once a page is full: reading the
    # folded columns from this index rather than from each row keeps it as quick as before they were folded.
    scan_order=("name", "id"),
)
SEARCHED = ", ".join(FOLDED.columns)  # the index's columns, named as the customer's
SHADOWS = ", ".join(shadow(column) for column in FOLDED.columns)  # what they hold

TRIGGERS = (
    "customers_search_customer_insert",
    "customers_search_customer_update",
    "customers_search_customer_delete",
    "customers_search_taxid_insert",
    "customers_search_taxid_update",
    "customers_search_taxid_delete",
)


def _compacted(column: str) -> str:
    """SQL for `compact()`: tax values are indexed without separators, so "76.086.428-5" is found as typed
    with or without its dots."""
    for separator in SEPARATORS:
        column = f"replace({column}, '{separator}', '')"
    return column


_KEY = "(SELECT id FROM customers_search_key WHERE customer_id = {row}.{column})"
_TAX_VALUES = (
    f"(SELECT group_concat({_compacted('tax_value')}, ' ') FROM customers_taxid WHERE customer_id = {{row}}.{{column}})"
)


def _refresh_tax_values(row: str) -> str:
    return (
        f"UPDATE customers_search SET tax_values = {_TAX_VALUES.format(row=row, column='customer_id')} "
        f"WHERE rowid = {_KEY.format(row=row, column='customer_id')};"
    )


DROP_TRIGGERS = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


def _index_statements(*, folded: bool) -> list[str]:
    """The index and its triggers, indexing the folded copies of the searched columns, or (as before migration
    0008, `folded=False`) the columns themselves."""
    refold = FOLDED.update_sql("NEW") if folded else ""  # the folded copies first: the index reads them
    indexed = SHADOWS if folded else SEARCHED
    return [
        "CREATE TABLE IF NOT EXISTS customers_search_key "
        "(id INTEGER PRIMARY KEY, customer_id char(32) NOT NULL UNIQUE)",
        "CREATE VIRTUAL TABLE IF NOT EXISTS customers_search "
        "USING fts5(name, id_crm, id_erp, id_accounting, tax_values, tokenize='trigram')",
        *DROP_TRIGGERS,
        # A new customer has no tax IDs yet (they point to it). Reading customers_taxid here would also stop
        # SQLite from renaming a rebuilt customers_taxid into place: a migration could not alter that table.
        f"""CREATE TRIGGER customers_search_customer_insert AFTER INSERT ON customers_customer BEGIN
            {refold}
            INSERT INTO customers_search_key (customer_id) VALUES (NEW.id);
            INSERT INTO customers_search (rowid, {SEARCHED}, tax_values)
            SELECT {_KEY.format(row="NEW", column="id")}, {indexed}, '' FROM customers_customer WHERE rowid = NEW.rowid;
        END""",
        # Every save writes every column: re-index only when a searched one changed (a push's answer does not).
        f"""CREATE TRIGGER customers_search_customer_update AFTER UPDATE OF {SEARCHED} ON customers_customer
        WHEN {FOLDED.changed_sql()}
        BEGIN
            {refold}
            UPDATE customers_search
            SET ({SEARCHED}) = (SELECT {indexed} FROM customers_customer WHERE rowid = NEW.rowid)
            WHERE rowid = {_KEY.format(row="NEW", column="id")};
        END""",
        f"""CREATE TRIGGER customers_search_customer_delete AFTER DELETE ON customers_customer BEGIN
            DELETE FROM customers_search WHERE rowid = {_KEY.format(row="OLD", column="id")};
            DELETE FROM customers_search_key WHERE customer_id = OLD.id;
        END""",
        f"""CREATE TRIGGER customers_search_taxid_insert AFTER INSERT ON customers_taxid BEGIN
            {_refresh_tax_values("NEW")}
        END""",
        f"""CREATE TRIGGER customers_search_taxid_update AFTER UPDATE OF tax_value, customer_id ON customers_taxid
        WHEN OLD.tax_value IS NOT NEW.tax_value OR OLD.customer_id IS NOT NEW.customer_id
        BEGIN
            {_refresh_tax_values("OLD")}
            {_refresh_tax_values("NEW")}
        END""",
        f"""CREATE TRIGGER customers_search_taxid_delete AFTER DELETE ON customers_taxid BEGIN
            {_refresh_tax_values("OLD")}
        END""",
        # Index what is already there.
        "DELETE FROM customers_search",
        "DELETE FROM customers_search_key",
        "INSERT INTO customers_search_key (customer_id) SELECT id FROM customers_customer",
        f"""INSERT INTO customers_search (rowid, {SEARCHED}, tax_values)
        SELECT key.id, {indexed}, {_TAX_VALUES.format(row="customer", column="id")}
        FROM customers_search_key AS key JOIN customers_customer AS customer ON customer.id = key.customer_id""",
    ]


UNINSTALL = [
    *DROP_TRIGGERS,
    "DROP TABLE IF EXISTS customers_search",
    "DROP TABLE IF EXISTS customers_search_key",
]


# PostgreSQL: tax values as the search compares them (customers/selectors.py, compact and upper case), indexed by
# trigrams, so that part of every customer search reads an index too.
TAX_INDEX = "customers_taxid_compact"
_POSTGRESQL_INSTALL = [
    f"CREATE INDEX IF NOT EXISTS {TAX_INDEX} ON customers_taxid "
    f"USING gin ((upper({_compacted('tax_value')})) gin_trgm_ops)"
]
_POSTGRESQL_UNINSTALL = [f"DROP INDEX IF EXISTS {TAX_INDEX}"]


def _run(schema_editor, statements: list[str], *, vendor: str = "sqlite") -> None:
    if schema_editor.connection.vendor == vendor:
        for statement in statements:
            schema_editor.execute(statement, params=None)


def install(apps, schema_editor) -> None:
    """Create (or re-create) the index, the folded columns and their triggers, and index every customer: a
    migration's RunPython. On PostgreSQL, the trigram index of the folded columns."""
    _run(schema_editor, DROP_TRIGGERS)  # the folding of every row below need not re-index it row by row
    FOLDED.install(apps, schema_editor)
    _run(schema_editor, _index_statements(folded=True))
    _run(schema_editor, _POSTGRESQL_INSTALL, vendor="postgresql")


def install_unfolded(apps, schema_editor) -> None:
    """The index as migration 0006 made it, of the columns as they are: 0006's RunPython (which runs before
    PostgreSQL has qwoty_fold), and what reversing 0008 returns to."""
    _run(schema_editor, DROP_TRIGGERS)  # they read the folded columns
    FOLDED.uninstall(apps, schema_editor)
    _run(schema_editor, _index_statements(folded=False))
    _run(schema_editor, _POSTGRESQL_UNINSTALL, vendor="postgresql")


def uninstall(apps, schema_editor) -> None:
    _run(schema_editor, UNINSTALL)
    FOLDED.uninstall(apps, schema_editor)
    _run(schema_editor, _POSTGRESQL_UNINSTALL, vendor="postgresql")


def available(text: str) -> bool:
    """Whether the index can answer a search for `text`: on SQLite, three characters or more.

    Not with a NUL in it, which would end an FTS5 string: the scan finds nothing for it, without an error.
    """
    return connection.vendor == "sqlite" and len(text) >= MIN_LENGTH and "\x00" not in text


def covers(term: str) -> bool:
    """Whether the index answers this search word in every field.

    It does for words with a digit: tax values, external ids, numbers in names. Those match few customers,
    which the index lists at once where a scan would read them all. A plain word is left to the scan in
    name order, which reaches a page of matches sooner than the index could list thousands of them (each
    keystroke of "Gra…" matches a tenth of the customers); see `make bench-ui`. Only its tax-value part
    comes from the index (`tax_matching_sql`), as tax values seldom contain a word.
    """
    return any(character.isdigit() for character in term) and available(fold(term)) and available(compact(term))


def _phrase(text: str) -> str:
    # Inside double quotes an FTS5 string is literal, bar the quote itself, which is doubled.
    return '"' + text.replace('"', '""') + '"'


_CUSTOMERS_MATCHING = (
    "SELECT customer_id FROM customers_search_key WHERE id IN "
    "(SELECT rowid FROM customers_search WHERE customers_search MATCH %s)"
)


def matching_sql(term: str) -> tuple[str, list[str]]:
    """SQL for the ids of customers whose name or external ids contain `term`, or a tax value (both compact) its
    compact form.

    The same matches as the scan: substrings, whatever the case and accents (both read the folded copies).
    """
    query = f"{{{' '.join(FOLDED.columns)}}} : {_phrase(fold(term))} OR tax_values : {_phrase(compact(term))}"
    return _CUSTOMERS_MATCHING, [query]


def tax_matching_sql(tax_value: str) -> tuple[str, list[str]]:
    """SQL for the ids of customers with a tax value whose compact form contains `tax_value` (compact)."""
    return _CUSTOMERS_MATCHING, [f"tax_values : {_phrase(tax_value)}"]


def names_matching_sql(words: list[str]) -> tuple[str, list[str]]:
    """SQL for the ids of customers whose name contains every one of `words`, whatever the case and accents."""
    return _CUSTOMERS_MATCHING, [" AND ".join(f"name : {_phrase(fold(word))}" for word in words)]


@checks.register(checks.Tags.database)
def check_triggers(app_configs, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """The search index is only right while its triggers exist: a table rebuilt by a migration loses them."""
    if not databases or "default" not in databases or connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'customers_search%'")
        present = {name for (name,) in cursor.fetchall()}
    if "customers_search_key" not in present:
        return []  # not installed yet: its migration is pending
    missing = [name for name in TRIGGERS if name not in present]
    if not missing:
        return []
    # A warning, not an error: `migrate` runs this check before it applies the migration that repairs it.
    return [
        checks.Warning(
            f"The customer search index has lost its triggers: {', '.join(missing)}; searches miss changes.",
            hint="A migration rebuilt customers_customer or customers_taxid: end it with "
            "migrations.RunPython(search_index.install, search_index.uninstall).",
            id="customers.W001",
        )
    ]
