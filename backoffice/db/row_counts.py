"""Exact row counts of the listed tables on PostgreSQL, kept by triggers: a deep page is read from the list's end.

A page N of a list is found by skipping the rows before it, through the list's index: page 10,000 of 1,000,000
customers skips 999,900 index entries (130 ms). Read backwards from the last row, the same page skips none, but
which rows it holds depends on the exact number of rows, and COUNT(*) reads them all. So each listed table's count is
kept in `qwoty_row_count`, by statement triggers that add what an INSERT inserted and subtract what a DELETE deleted
(their transition tables), and reset by a TRUNCATE: one UPDATE per statement, however many rows it writes.

A missing count means unknown: the list then skips forward as before. A bulk load that turns triggers off
(benchmarks/bulk_load.py) calls `recount` after it. SQLite keeps no counts (and needs none at the sizes it serves).
"""

from django.db import connection

COUNTS_TABLE = "qwoty_row_count"
FUNCTION = "qwoty_count_rows"
# The tables whose list pages may be read from the end; each app's migration installs its table's triggers.
COUNTED = ("customers_customer", "contacts_contact")

_INSTALL_FUNCTION = """
CREATE TABLE IF NOT EXISTS {schema}.{counts} (table_name text PRIMARY KEY, row_count bigint NOT NULL);
CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {schema}.{counts} VALUES (TG_TABLE_NAME, 0)
        ON CONFLICT (table_name) DO UPDATE SET row_count = 0;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO delta FROM inserted;
    ELSE
        SELECT -count(*) INTO delta FROM deleted;
    END IF;
    IF delta <> 0 THEN
        -- No row: the count is unknown (see row_counts.py), and stays so.
        UPDATE {schema}.{counts} SET row_count = row_count + delta WHERE table_name = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END $$"""


def _triggers(table: str, schema: str) -> list[str]:
    names = _trigger_names(table)
    return [
        f"CREATE TRIGGER {names[0]} AFTER INSERT ON {table} REFERENCING NEW TABLE AS inserted "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{FUNCTION}()",
        f"CREATE TRIGGER {names[1]} AFTER DELETE ON {table} REFERENCING OLD TABLE AS deleted "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{FUNCTION}()",
        f"CREATE TRIGGER {names[2]} AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{FUNCTION}()",
    ]


def _trigger_names(table: str) -> tuple[str, str, str]:
    return (f"{table}_count_insert", f"{table}_count_delete", f"{table}_count_truncate")


def _schema(database) -> str:
    # Schema-qualified, as the folding function is: a trigger must not depend on the search_path it fires under.
    with database.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def install_function(apps, schema_editor) -> None:
    """PostgreSQL: the counts table and the triggers' function (a migration's RunPython)."""
    if schema_editor.connection.vendor == "postgresql":
        schema = _schema(schema_editor.connection)
        schema_editor.execute(
            _INSTALL_FUNCTION.format(schema=schema, counts=COUNTS_TABLE, function=FUNCTION), params=None
        )


def uninstall_function(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE", params=None)
        schema_editor.execute(f"DROP TABLE IF EXISTS {COUNTS_TABLE}", params=None)


def install(table: str):
    """The RunPython functions (install, uninstall) that keep `table`'s count: its triggers, and its count now."""

    def install_table(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema = _schema(schema_editor.connection)
        # No row may be written between the count and the triggers.
        schema_editor.execute(f"LOCK TABLE {table} IN SHARE MODE", params=None)
        for name in _trigger_names(table):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
        for statement in _triggers(table, schema):
            schema_editor.execute(statement, params=None)
        recount(table, database=schema_editor.connection)

    def uninstall_table(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in _trigger_names(table):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
        schema_editor.execute(f"DELETE FROM {COUNTS_TABLE} WHERE table_name = %s", params=[table])

    return install_table, uninstall_table


def recount(table: str, *, database=connection) -> None:
    """Count `table` again (COUNT(*): it reads the table) and store it: after a load with the triggers off."""
    with database.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {COUNTS_TABLE} (table_name, row_count) SELECT %s, count(*) FROM {table} "
            "ON CONFLICT (table_name) DO UPDATE SET row_count = EXCLUDED.row_count",
            [table],
        )


def counted_sql(table: str) -> tuple[str, list]:
    """SQL for `table`'s exact row count, NULL when it is not kept (SQLite, or no count stored)."""
    return f"(SELECT row_count FROM {COUNTS_TABLE} WHERE table_name = %s)", [table]


def is_counted(table: str, database=connection) -> bool:
    """Whether `table`'s rows are counted (PostgreSQL): its count may still be unknown (see counted_sql)."""
    return database.vendor == "postgresql" and table in COUNTED
