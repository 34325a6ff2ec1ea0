"""The push layer's per-push statements, as SQL built once per shape and run with values the fields prepare.

Every push runs the same few statements (mark dirty, claim, take a rate-limit slot, read the record,
store the attempt, apply the answer), and a worker is CPU-bound on one GIL. Through the ORM each of them
costs about 0.5 ms of query building; the SQL itself about 0.1 ms (measured on SQLite). So these
few are written out here, and nothing else is: every other query of the push layer uses the ORM.

They stay ORM-shaped: field names in, `UPDATE … WHERE pk = …` or one `INSERT` out (or a `SELECT` the
ORM compiled itself, once, with its rows made into instances as a queryset makes them), each value
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

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def _connection():
    """This thread's connection, looked up once per statement: each `connection.x` looks it up again."""
    return connections[DEFAULT_DB_ALIAS]


def update(model: type[Model], pk, values: dict, *, where: str = "", params: tuple = ()) -> int:
    """`model.objects.filter(pk=pk, <where>).update(**values)`; returns the number of rows changed.

    `where` is SQL with `{field}` for each column it names and `%s` for each value; `params` gives,
    in order, the (field name, value) of each `%s`.
    """
    db = _connection()
    sql = _update_sql(model, tuple(values), where, db.vendor)
    meta = model._meta
    args = [meta.get_field(name).get_db_prep_save(value, db) for name, value in values.items()]
    args.append(meta.pk.get_db_prep_value(pk, db))
    args += [meta.get_field(name).get_db_prep_value(value, db) for name, value in params]
    with db.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.rowcount


def update_in(model: type[Model], pks: list, values: dict) -> int:
    """`model.objects.filter(pk__in=pks).update(**values)`; returns the number of rows changed. None is stored as
    SQL NULL, as `update()` stores it (a JSONField's `get_db_prep_save` would make it JSON `null`)."""
    if not pks:
        return 0
    db = _connection()
    sql = _update_in_sql(model, tuple(values), len(pks), db.vendor)
    meta = model._meta
    args = [
        None if value is None else meta.get_field(name).get_db_prep_save(value, db) for name, value in values.items()
    ]
    args += [meta.pk.get_db_prep_value(pk, db) for pk in pks]
    with db.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.rowcount


def insert(obj: Model) -> None:
    """`obj.save()` for a new row whose primary key the database assigns; the key is not read back."""
    db = _connection()
    fields = _insert_fields(type(obj))
    sql = _insert_sql(type(obj), db.vendor)
    args = [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, args)


def select_for_update(model: type[Model], pk, names: tuple[str, ...]) -> dict | None:
    """`model.objects.select_for_update().filter(pk=pk).values(*names).first()`, for fields that need no
    conversion beyond what the driver does (datetimes come back aware, in UTC)."""
    db = _connection()
    sql = _select_sql(model, names, db.vendor, db.features.has_select_for_update)
    with db.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, db)])
        row = cursor.fetchone()
    if row is None:
        return None
    # SQLite's driver gives naive datetimes, stored in UTC (USE_TZ); PostgreSQL's are aware already.
    values = zip(names, row, strict=True)
    return {name: value.replace(tzinfo=UTC) if _is_naive(value) else value for name, value in values}


def select(model: type[Model], filters: dict, *, ordered: bool = True) -> list[Model]:
    """`model.objects.filter(**filters)` (with the model's ordering unless `ordered` is False) as instances.

    Filters are exact matches on fields (a foreign key by the related row's key), never None (that is other SQL:
    IS NULL). The queryset is compiled once per process and shape (see `prepared`).
    """
    if any(value is None for value in filters.values()):
        raise ValueError("select() takes no None filter: the ORM writes IS NULL for it")

    def build(*values):
        queryset = model._default_manager.filter(**dict(zip(filters, values, strict=True)))
        return queryset if ordered else queryset.order_by()

    return prepared((model, tuple(filters), ordered), build, *filters.values())


def prepared(key, build, *values) -> list:
    """`build(*values)`'s rows (model instances, or what `values_list()` gives), its SQL compiled by the ORM once
    per process, database and `key`, then run with each call's values.

    `build` must make the same SQL whatever the values (exact matches and comparisons, no None), and use each
    value as one parameter. Rows go through the same converters and `Model.from_db()` as a queryset's.
    """
    db = _connection()
    plan = _plan(db, key, build, values)
    args = [prepare(value, db) for prepare, value in zip(plan.preparers, values, strict=True)]
    with db.cursor() as cursor:
        cursor.execute(plan.sql, plan.arguments(args))
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        if plan.converters:
            row = list(row)
            for position, (converters, expression) in plan.converters:
                for convert in converters:
                    row[position] = convert(row[position], expression, db)
        instances.append(plan.model.from_db(db.alias, plan.attnames, row) if plan.model else tuple(row))
    return instances


class _Plan:
    __slots__ = ("attnames", "converters", "model", "params", "preparers", "slots", "sql")

    def arguments(self, args: list) -> list:
        params = list(self.params)
        for slot, value in zip(self.slots, args, strict=True):
            params[slot] = value
        return params


def _plan(db, key, build, values) -> _Plan:
    # Once per process, database and key: the threads share them (a plan is never changed once made). Its converters
    # are the compiling connection's operations, which read only settings; each call passes its own connection.
    full_key = (db.alias, db.vendor, key)
    if (plan := _plans.get(full_key)) is None:
        plan = _plans.setdefault(full_key, _compile(build, values))
    return plan


_plans: dict[tuple, _Plan] = {}


def _compile(build, values) -> _Plan:
    """Compile `build(*values)` and find where each value went among its parameters (each one must appear once)."""
    query = build(*values).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    plan = _Plan()
    plan.sql, plan.params = sql, tuple(params)
    plan.slots, plan.preparers = [], []
    for value in values:
        found = _find_parameter(query, params, value)
        if found is None:
            raise ValueError(f"Cannot prepare {query}: {value!r} is not exactly one of its parameters")
        plan.slots.append(found[0])
        plan.preparers.append(found[1])
    klass_info = compiler.klass_info
    columns = [column for column, _, _ in compiler.select]
    plan.model = klass_info["model"] if klass_info and not query.values_select else None
    plan.attnames = [columns[i].target.attname for i in klass_info["select_fields"]] if plan.model else []
    plan.converters = list(compiler.get_converters(columns).items())
    return plan


def _find_parameter(query, params, value):
    """(index, how to prepare a new value) of `value` among `params`, prepared by one of the query's fields."""
    fields = {query.model._meta.pk, *query.model._meta.concrete_fields}
    matches = set()
    for field in fields:
        try:
            prepared_value = field.get_db_prep_value(value, connection)
        except (TypeError, ValueError, AttributeError, ValidationError):
            continue
        same = type(prepared_value)
        indexes = [i for i, param in enumerate(params) if type(param) is same and param == prepared_value]
        if len(indexes) == 1:
            matches.add((indexes[0], field.get_db_prep_value))
    slots = {index for index, _ in matches}
    return next(iter(matches)) if len(slots) == 1 else None


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


@functools.lru_cache(maxsize=256)
def _update_in_sql(model: type[Model], names: tuple[str, ...], count: int, vendor: str) -> str:
    assignments = ", ".join(f"{_column(model, name)} = %s" for name in names)
    keys = ", ".join(["%s"] * count)
    table = connection.ops.quote_name(model._meta.db_table)
    return f"UPDATE {table} SET {assignments} WHERE {_column(model, model._meta.pk.name)} IN ({keys})"


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
