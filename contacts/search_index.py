"""What the contact search reads folded, whatever the case and accents (backoffice/db/folding.py): a shadow column
each on SQLite, kept by triggers; a trigram index of their folds on PostgreSQL.

The contact list searches these and the customer's name (folded by customers/search_index.py).
A migration that rebuilds contacts_contact on SQLite drops them: end it with
`migrations.RunPython(search_index.install, search_index.uninstall)` (the check `backoffice.W001` says so).
"""

from backoffice.db.folding import FoldedColumns

FOLDED = FoldedColumns(
    "contacts_contact",
    ("first_name", "last_name", "email", "phone", "id_crm", "id_erp", "id_accounting"),
    migration=("contacts", "0007_folded_search"),
    install_function="contacts.search_index.install",
)


def install(apps, schema_editor) -> None:
    FOLDED.install(apps, schema_editor)


def uninstall(apps, schema_editor) -> None:
    FOLDED.uninstall(apps, schema_editor)
