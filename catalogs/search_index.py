"""What the catalog search reads folded, whatever the case and accents (backoffice/db/folding.py): a shadow column
each on SQLite, kept by triggers; a trigram index of their folds on PostgreSQL.

A migration that rebuilds catalogs_catalog on SQLite drops them: end it with
`migrations.RunPython(search_index.install, search_index.uninstall)` (the check `backoffice.W001` says so).
"""

from backoffice.db.folding import FoldedColumns

FOLDED = FoldedColumns(
    "catalogs_catalog",
    ("name", "api_name", "reference", "id_crm", "id_erp", "id_accounting"),
    migration=("catalogs", "0004_folded_search"),
    install_function="catalogs.search_index.install",
)


def install(apps, schema_editor) -> None:
    FOLDED.install(apps, schema_editor)


def uninstall(apps, schema_editor) -> None:
    FOLDED.uninstall(apps, schema_editor)
