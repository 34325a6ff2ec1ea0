"""The push layer's per-push statements, as SQL built once per shape and run with values the fields prepare.

Every push runs the same few statements (mark dirty, claim, take a rate-limit slot, store the
attempt, apply the answer), and a worker is CPU-bound on one GIL. Through the ORM each of them
costs about 0.5 ms of query building; the SQL itself about 0.1 ms (measured on SQLite). So these
few are written out here, and nothing else is: every other query of the push layer uses the ORM.

They stay ORM-shaped: field names in, `UPDATE … WHERE pk = …` or one `INSERT` out, each value
passed through its field's own `get_db_prep_save` (or `get_db_prep_value` in a condition), so it is
stored exactly as `save()` or `update()` would store it, on SQLite and PostgreSQL alike.

What they leave out, on purpose (none of it is needed by their callers):
- they send no signals (as `update()`), and `insert()` does not read back the new primary key;
- they run on the `default` database, without routers;
- values are plain column values, not expressions (`F()`), nor fields with their own placeholder
  (PostgreSQL arrays, ranges);
- `select_for_update()` locks only inside a transaction, where the push layer calls it; unlike the
  ORM it does not check that one is open.
"""

import functools
import string
from datetime import UTC

from django.db import connection
from django.db.models import Model


def update(model: type[Model], pk, values: dict, *, where: str = "", params: tuple = ()) -> int:
    """`model.objects.filter(pk=pk, <where>).update(**values)`; returns the number of rows changed.

    `where` is SQL with `{field}` for each column it names and `%s` for each value; `params` gives,
    in order, the (field name, value) of each `%s`.
    """
    sql = _update_sql(model, tuple(values), where, connection.vendor)
    meta = model._meta
    args = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]
    args.append(meta.pk.get_db_prep_value(pk, connection))
    args += [meta.get_field(name).get_db_prep_value(value, connection) for name, value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.rowcount


def insert(obj: Model) -> None:
    """`obj.save()` for a new row whose primary key the database assigns; the key is not read back."""
    fields = _insert_fields(type(obj))
    sql = _insert_sql(type(obj), connection.vendor)
    args = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def select_for_update(model: type[Model], pk, names: tuple[str, ...]) -> dict | None:
    """`model.objects.select_for_update().filter(pk=pk).values(*names).first()`, for fields that need no
    conversion beyond what the driver does (datetimes come back aware, in UTC)."""
    sql = _select_sql(model, names, connection.vendor, connection.features.has_select_for_update)
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    # SQLite's driver gives naive datetimes, stored in UTC (USE_TZ); PostgreSQL's are aware already.
    values = zip(names, row, strict=True)
    return {name: value.replace(tzinfo=UTC) if _is_naive(value) else value for name, value in values}


def _is_naive(value) -> bool:
    return getattr(value, "tzinfo", False) is None and hasattr(value, "utcoffset")


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...], where: str, vendor: str) -> str:
    columns = {name: _column(model, name) for name in _names_in(where)}
    assignments = ", ".join(f"{_column(model, name)} = %s" for name in names)
    condition = f"{_column(model, model._meta.pk.name)} = %s"
    if where:
        condition += f" AND ({where.format(**columns)})"
    return f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} WHERE {condition}"


@functools.cache
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.db_returning)


@functools.cache
def _insert_sql(model: type[Model], vendor: str) -> str:
    fields = _insert_fields(model)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


@functools.cache
def _select_sql(model: type[Model], names: tuple[str, ...], vendor: str, lock: bool) -> str:
    columns = ", ".join(_column(model, name) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = _column(model, model._meta.pk.name)
    return f"SELECT {columns} FROM {table} WHERE {pk} = %s{' FOR UPDATE' if lock else ''}"


def _names_in(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
