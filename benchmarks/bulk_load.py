"""Loading millions of benchmark rows quickly: executemany on SQLite, COPY on PostgreSQL with the indexes built after.

Rows are plain dicts (no model instances, no signals), streamed: any column missing from a row takes its default.
On PostgreSQL, loading into a table with its GIN trigram indexes updates them row by row (145 s for 200,000
customers); `indexes_deferred` drops a table's indexes and constraints for the load and re-creates them, as the
migrations left them, afterwards: the expression indexes of qwoty_fold(...) then hold every row.
"""

import contextlib
import itertools
import json
from collections.abc import Iterable, Iterator

CHUNK = 10_000


def _fields(model) -> list:
    return [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]


def insert(model, rows: Iterable[dict]) -> int:
    """INSERT `rows` with executemany, a chunk at a time; returns how many."""
    from django.db import connection

    fields = _fields(model)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    defaults = {field.name: field.get_default() for field in fields}
    count = 0
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(rows, CHUNK)):
            cursor.executemany(
                sql,
                [
                    [field.get_db_prep_save(row.get(field.name, defaults[field.name]), connection) for field in fields]
                    for row in chunk
                ],
            )
            count += len(chunk)
    return count


def copy(model, rows: Iterable[dict]) -> int:
    """COPY `rows` into the model's table (PostgreSQL); returns how many.

    Values go as psycopg dumps them (UUID, datetime, str...); JSON columns as JSON text, which the column parses.
    """
    from django.db import connection
    from django.db.models import JSONField

    fields = _fields(model)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)

    def text(field):
        if isinstance(field, JSONField):
            return lambda value: None if value is None else json.dumps(value, cls=field.encoder)
        return lambda value: value

    converters = [(field.name, text(field), text(field)(field.get_default())) for field in fields]
    missing = object()
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as out,
    ):
        for row in rows:
            values = []
            for name, convert, default in converters:
                value = row.get(name, missing)
                values.append(default if value is missing else convert(value))
            out.write_row(values)
            count += 1
    return count


def _deferrable(cursor, tables: list[str]) -> tuple[list, list, list]:
    """The constraints and indexes to drop for a load: (foreign keys, keys, other indexes), each as (table, name,
    SQL to re-create it)."""
    cursor.execute(
        """SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY(%(tables)s::regclass[])
            OR (contype = 'f' AND confrelid = ANY(%(tables)s::regclass[])))
        ORDER BY conrelid::regclass::text, conname""",
        {"tables": tables},
    )
    foreign, keys = [], []
    for table, name, kind, definition in cursor.fetchall():
        (foreign if kind == "f" else keys).append(
            (table, name, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        )
    cursor.execute(
        """SELECT indrelid::regclass::text, indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = ANY(%(tables)s::regclass[])
            AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
        ORDER BY 2""",
        {"tables": tables},
    )
    return foreign, keys, cursor.fetchall()


@contextlib.contextmanager
def indexes_deferred(models: list) -> Iterator[None]:
    """PostgreSQL: drop the tables' indexes, keys and the foreign keys from or to them while the block loads rows,
    then create them again from their definitions (and so holding every row), and ANALYZE the tables.

    The tables' own triggers are off meanwhile too (the row counts' would copy every row into a transition table):
    what they keep is computed once the rows are in (backoffice/db/row_counts.py).
    Run it inside a transaction: a load that fails leaves the indexes as they were.
    """
    from django.db import connection

    from backoffice.db import row_counts

    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        foreign, keys, indexes = _deferrable(cursor, tables)
        for table, name, _ in foreign + keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for _, name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            if table in row_counts.COUNTED:
                row_counts.recount(table)
        # A GIN index builds several times quicker in memory; the setting lasts for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, _, sql in keys + indexes + foreign:
            cursor.execute(sql)
        cursor.execute(f"ANALYZE {', '.join(tables)}")
        after = _deferrable(cursor, tables)
    if after != (foreign, keys, indexes):
        raise AssertionError("the indexes and constraints after the load differ from those before it")
