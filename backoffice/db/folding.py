"""Search that ignores case and accents, on SQLite and PostgreSQL: "gonzalez" finds "González", "MULLER" finds
"Müller", "gonzález" finds "Gonzalez".

Both sides of a comparison are folded: lower case, accents dropped, and the letters that carry no accent to drop
but have a plain spelling (ø, ł, đ, æ, þ...) spelt so.

- PostgreSQL: `qwoty_fold(text)` is lower(unaccent(text)), declared IMMUTABLE (unaccent() is only STABLE) so an
  index can hold it. A GIN trigram index over a table's folded columns lets `LIKE '%term%'` read only the rows
  that have the term's trigrams. The term is folded by the same function, so both sides always agree.
- SQLite has neither unaccent nor an index for `LIKE '%term%'`: `fold()` below is registered as qwoty_fold on
  every connection (backoffice/db/sqlite), and each searched column has a shadow column, `<column>_folded`, that
  database triggers keep current whatever writes the rows (ORM saves, queryset updates, bulk inserts, raw SQL).
  A search reads the shadow column: folding a row costs a Python call, a page of search may read 100,000.

A migration that rebuilds one of these tables on SQLite (how SQLite alters a column) drops its shadow columns and
triggers: end it with the table's `install` (the check `backoffice.W001` says which).
"""

import unicodedata
from dataclasses import dataclass

from django.core import checks
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.expressions import Col
from django.db.models.lookups import Contains

FUNCTION = "qwoty_fold"

# Letters NFKD leaves whole (no accent to drop), as they are spelt without their stroke or ligature.
_LETTERS = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "\N{LATIN SMALL LETTER DOTLESS I}": "i",
        "ŧ": "t",
        "ŋ": "n",
        "ƀ": "b",
        "ɨ": "i",
        "ƶ": "z",
        "ǥ": "g",
    }
)


def fold(text: str) -> str:
    """`text` in lower case without accents: "Ærø Straße" → "aero strasse". Used for search terms, by SQLite's
    qwoty_fold and by the tests.

    Casefolded (ß → ss), decomposed (NFKD: é → e + accent, ﬁ → fi, Ⅻ → XII), accents dropped, then folded again
    (a decomposition may be upper case) and the letters of _LETTERS spelt out. fold(fold(x)) == fold(x).
    """
    if text.isascii():
        return text.lower()  # most names and every id: 20 times quicker, the same answer
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return bare.casefold().translate(_LETTERS)


def sqlite_fold(value):
    """qwoty_fold for SQLite: NULL stays NULL (and a number or blob as it is: only text is folded)."""
    return fold(value) if isinstance(value, str) else value


def register_sqlite_function(database) -> None:
    """Make qwoty_fold callable on a new sqlite3 connection (triggers call it). Deterministic, so SQLite folds a
    constant once per statement and may use it in an index."""
    database.create_function(FUNCTION, 1, sqlite_fold, deterministic=True)


def shadow(column: str) -> str:
    """The name of `column`'s folded copy on SQLite."""
    return f"{column}_folded"


class Folded(Func):
    """A text column folded: qwoty_fold(column) on PostgreSQL (what the trigram index holds), its shadow column on
    SQLite. On SQLite only columns with a shadow (a `FoldedColumns`) may be folded: another is an error, not a
    silent Python call per row."""

    function = FUNCTION
    output_field = TextField()

    def __init__(self, field: str):
        super().__init__(F(field))

    def as_sqlite(self, compiler, connection, **extra_context):
        (column,) = self.get_source_expressions()
        if not isinstance(column, Col):
            raise TypeError(f"Folded() reads a column's shadow on SQLite; {column!r} is not a column.")
        identifiers = (column.alias, shadow(column.target.column)) if column.alias else (shadow(column.target.column),)
        return ".".join(map(compiler.quote_name_unless_alias, identifiers)), []


def folded_contains(field: str, term: str) -> Q:
    """`field` contains `term`, whatever the case and accents of either."""
    if connection.vendor == "postgresql":
        # Folded by the database, as the index's values were: Python's fold and unaccent differ on rare letters.
        # The term's fold is a constant, so the planner reads the trigram index with it.
        folded_term = Func(Value(term), function=FUNCTION, output_field=TextField())
        return Q(Contains(Folded(field), folded_term))
    return Q(Contains(Folded(field), fold(term)))


# -- the database side: PostgreSQL's function, each table's folded columns ------------------------------------

_POSTGRESQL_EXTENSIONS = ("unaccent", "pg_trgm")
_SCHEMAS = (
    "SELECT extnamespace::regnamespace::text, current_schema()::regnamespace::text, "
    "current_setting('is_superuser') = 'on' FROM pg_extension WHERE extname = 'unaccent'"
)
# unaccent() with its dictionary, bound to the same C function but declared IMMUTABLE: creating a C function takes a
# superuser. Only then can PostgreSQL inline qwoty_fold into the query (an IMMUTABLE SQL function calling a STABLE
# one is called as a function, row by row): folding costs a third, and a search that scans 200,000 customers in
# name order takes 12 ms instead of 50 (make bench-ui on PostgreSQL).
_IMMUTABLE_UNACCENT = """CREATE OR REPLACE FUNCTION {schema}.qwoty_unaccent(regdictionary, text) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT AS '$libdir/unaccent', 'unaccent_dict'"""
# Schema-qualified: an index's function must not depend on the search_path (pg_dump restores with an empty one).
_FUNCTION_SQL = """CREATE OR REPLACE FUNCTION {schema}.{function}(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower({unaccent}('{dictionary}'::regdictionary, $1)) $$"""


def install_function(apps, schema_editor) -> None:
    """PostgreSQL: the unaccent and pg_trgm extensions and qwoty_fold(), for a migration's RunPython. SQLite
    registers its qwoty_fold on each connection instead.

    qwoty_fold is lower(unaccent(text)) declared IMMUTABLE; with a superuser, through _IMMUTABLE_UNACCENT (the same
    fold, cheaper). Run it again as a superuser to switch: the indexes' values do not change.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    for extension in _POSTGRESQL_EXTENSIONS:
        schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}", params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_SCHEMAS)
        extension_schema, schema, superuser = cursor.fetchone()
    unaccent = f"{extension_schema}.unaccent"
    if superuser:
        schema_editor.execute(_IMMUTABLE_UNACCENT.format(schema=schema), params=None)
        unaccent = f"{schema}.qwoty_unaccent"
    schema_editor.execute(
        _FUNCTION_SQL.format(
            schema=schema, function=FUNCTION, unaccent=unaccent, dictionary=f"{extension_schema}.unaccent"
        ),
        params=None,
    )


def uninstall_function(apps, schema_editor) -> None:
    # The extensions stay: other code may use them, and dropping one that nothing else needs gains nothing.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)", params=None)
        schema_editor.execute("DROP FUNCTION IF EXISTS qwoty_unaccent(regdictionary, text)", params=None)


_registered: list["FoldedColumns"] = []


@dataclass(frozen=True)
class FoldedColumns:
    """The text columns of one table a search reads folded: on SQLite a shadow column each, kept by triggers; on
    PostgreSQL a GIN trigram index over their folds.

    `own_triggers` is False where the table's triggers are written elsewhere (customers: the search index's
    triggers also keep the shadow columns); they use `update_sql` and `changed_sql`. `scan_order`, on SQLite, the
    list's order, for an index of it and the shadow columns: a search that scans the list in that order then reads
    that index alone, not each row (see customers). For the check: `migration` is the one that first installs all
    this (app label, name), `install_function` the RunPython that re-creates it.
    """

    table: str
    columns: tuple[str, ...]
    migration: tuple[str, str]
    install_function: str
    own_triggers: bool = True
    scan_order: tuple[str, ...] = ()

    def __post_init__(self):
        _registered.append(self)

    @property
    def index_name(self) -> str:
        return f"{self.table}_folded"

    @property
    def triggers(self) -> tuple[str, ...]:
        return (f"{self.table}_folded_insert", f"{self.table}_folded_update") if self.own_triggers else ()

    def update_sql(self, row: str = "NEW") -> str:
        """SQL refolding the shadow columns of the trigger's `row` (an UPDATE inside a trigger never fires its own
        table's UPDATE OF trigger again: the shadow columns are not among those it watches)."""
        assignments = ", ".join(f"{shadow(column)} = {FUNCTION}({row}.{column})" for column in self.columns)
        return f"UPDATE {self.table} SET {assignments} WHERE rowid = {row}.rowid;"

    def changed_sql(self) -> str:
        """A trigger's WHEN: a folded column changed (every save writes every column; a push's answer changes none
        of these)."""
        return " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in self.columns)

    def _sqlite_triggers(self) -> list[str]:
        insert, update = self.triggers
        return [
            f"CREATE TRIGGER {insert} AFTER INSERT ON {self.table} BEGIN {self.update_sql()} END",
            f"""CREATE TRIGGER {update} AFTER UPDATE OF {", ".join(self.columns)} ON {self.table}
            WHEN {self.changed_sql()}
            BEGIN {self.update_sql()} END""",
        ]

    def install_columns(self, schema_editor) -> None:
        """SQLite: add the shadow columns that are missing (a rebuilt table lost them) and fold every row."""
        present = _sqlite_columns(schema_editor.connection, self.table)
        for column in self.columns:
            if shadow(column) not in present:
                schema_editor.execute(f"ALTER TABLE {self.table} ADD COLUMN {shadow(column)} text", params=None)
        assignments = ", ".join(f"{shadow(column)} = {FUNCTION}({column})" for column in self.columns)
        schema_editor.execute(f"UPDATE {self.table} SET {assignments}", params=None)

    def install(self, apps, schema_editor) -> None:
        """Create (or re-create) the shadow columns and their triggers, or the index: a migration's RunPython."""
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for trigger in self.triggers:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}", params=None)
            self.install_columns(schema_editor)
            if self.own_triggers:
                for statement in self._sqlite_triggers():
                    schema_editor.execute(statement, params=None)
            if self.scan_order:
                indexed = ", ".join((*self.scan_order, *map(shadow, self.columns)))
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {self.index_name} ON {self.table} ({indexed})", params=None
                )
        elif vendor == "postgresql":
            expressions = ", ".join(f"{FUNCTION}({column}) gin_trgm_ops" for column in self.columns)
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.index_name} ON {self.table} USING gin ({expressions})", params=None
            )

    def uninstall(self, apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for trigger in self.triggers:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}", params=None)
            schema_editor.execute(f"DROP INDEX IF EXISTS {self.index_name}", params=None)
            present = _sqlite_columns(schema_editor.connection, self.table)
            for column in self.columns:
                if shadow(column) in present:
                    schema_editor.execute(f"ALTER TABLE {self.table} DROP COLUMN {shadow(column)}", params=None)
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {self.index_name}", params=None)

    def missing(self, database) -> list[str]:
        """On SQLite, the shadow columns, triggers and index this table lacks; [] while its migration is pending."""
        if self.migration not in MigrationRecorder(database).applied_migrations():
            return []
        present = _sqlite_columns(database, self.table)
        with database.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = %s", [self.table])
            objects = {name for (name,) in cursor.fetchall()}
        expected = [*self.triggers, *([self.index_name] if self.scan_order else [])]
        return [shadow(column) for column in self.columns if shadow(column) not in present] + [
            name for name in expected if name not in objects
        ]


def _sqlite_columns(database, table: str) -> set[str]:
    with database.cursor() as cursor:
        cursor.execute(f"SELECT name FROM pragma_table_info('{table}')")
        return {name for (name,) in cursor.fetchall()}


@checks.register(checks.Tags.database)
def check_shadow_columns(app_configs, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """A folded search is only right while its shadow columns and triggers exist: a rebuilt table loses them."""
    if not databases or "default" not in databases or connection.vendor != "sqlite":
        return []
    warnings = []
    for folded in _registered:
        missing = folded.missing(connection)
        if missing:
            # A warning, not an error: `migrate` runs this check before it applies the migration that repairs it.
            warnings.append(
                checks.Warning(
                    f"The folded search columns of {folded.table} are incomplete: {', '.join(missing)} missing; "
                    "searches fail or miss changes.",
                    hint=f"A migration rebuilt {folded.table}: end it with "
                    f"migrations.RunPython({folded.install_function}, ...).",
                    id="backoffice.W001",
                )
            )
    return warnings
