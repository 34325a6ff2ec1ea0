"""Searching whatever the case and accents (backoffice/db/folding.py): the fold, and the folded columns the contact and
catalog searches read, kept current by triggers on SQLite and read through a trigram index on PostgreSQL."""

import uuid

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from backoffice.db import folding
from backoffice.db.folding import fold
from catalogs import search_index as catalog_search
from catalogs.models import Catalog
from catalogs.selectors import catalog_list
from contacts import search_index as contact_search
from contacts.models import Contact
from contacts.selectors import contact_list
from customers.selectors import customer_list
from tests import factories
from tests.ui.test_customer_search import rebuild_table

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's folded shadow columns")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's qwoty_fold()")

NAMES = {
    "González": "gonzalez",
    "MÜLLER": "muller",
    "Straße": "strasse",
    "Ærøskøbing": "aeroskobing",
    "Łódź": "lodz",
    "Đorđe Þór": "dorde thor",
    "Œuvre": "oeuvre",
    "Ñúñez-Çelik": "nunez-celik",
    "İstanbul": "istanbul",
    "CRM-00042": "crm-00042",
}


@pytest.mark.parametrize(("text", "folded"), NAMES.items())
def test_fold_drops_case_and_accents_and_spells_out_letters(text, folded):
    assert fold(text) == folded


@given(st.text())
def test_folding_twice_changes_nothing(text):
    # A folded term and a folded column are compared as they are: folding one of them again must not change it.
    assert fold(fold(text)) == fold(text)


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(("text", "folded"), NAMES.items())
def test_postgresql_folds_these_names_as_python_does(text, folded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT qwoty_fold(%s)", [text])
        assert cursor.fetchone() == (folded,)


@postgresql_only
@pytest.mark.django_db
def test_postgresql_folds_alike_without_a_superuser(monkeypatch):
    """A superuser's migration binds unaccent's C function as IMMUTABLE (cheaper); another role's calls unaccent()
    through SQL. Same answers, and the same trigram index serves both."""
    factories.CustomerFactory(name="Ærøskøbing Straße")
    monkeypatch.setattr(
        folding, "_SCHEMAS", folding._SCHEMAS.replace("current_setting('is_superuser') = 'on'", "false")
    )
    with connection.schema_editor() as editor:
        folding.install_function(None, editor)  # rolled back with the test's transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('qwoty_fold(text)'::regprocedure)")
        assert "qwoty_unaccent" not in cursor.fetchone()[0]
        for text, folded in NAMES.items():
            cursor.execute("SELECT qwoty_fold(%s)", [text])
            assert cursor.fetchone() == (folded,)
    assert set(customer_list(q="AEROSKOBING strasse").values_list("name", flat=True)) == {"Ærøskøbing Straße"}


def contacts_found(q: str) -> set[str]:
    return {contact.full_name for contact in contact_list(q=q)}


def catalogs_found(q: str) -> set[str]:
    return set(catalog_list(q=q).values_list("name", flat=True))


@pytest.mark.django_db
def test_contact_search_follows_every_kind_of_write():
    """On SQLite the folded copies are kept by triggers, which a queryset update, a bulk insert or raw SQL fire too."""
    contact = factories.ContactFactory(first_name="Zoë", last_name="Ñúñez")
    assert contacts_found("zoe nunez") == {"Zoë Ñúñez"}
    contact.last_name = "Peña"
    contact.save()
    assert contacts_found("nunez") == set()
    assert contacts_found("zoe pena") == {"Zoë Peña"}

    Contact.objects.filter(pk=contact.pk).update(email="Zoë@Exämple.org", phone="+46 8 ÉXT 12")
    assert contacts_found("zoe@example") == contacts_found("ext 12") == {"Zoë Peña"}

    Contact.objects.bulk_create(
        [Contact(id=uuid.uuid4(), customer=contact.customer, first_name="Åsa", last_name="Öberg")]
    )
    assert contacts_found("asa oberg") == {"Åsa Öberg"}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contacts_contact SET id_erp = %s WHERE last_name = %s", ["ÉRP-7", "Öberg"])
    assert contacts_found("erp-7") == {"Åsa Öberg"}


@pytest.mark.django_db
def test_catalog_search_follows_every_kind_of_write():
    catalog = factories.CatalogFactory(name="Crème brûlée")
    assert catalogs_found("creme brulee") == {"Crème brûlée"}
    catalog.name = "Pâtisserie"
    catalog.save()
    assert catalogs_found("creme") == set()
    assert catalogs_found("patisserie") == {"Pâtisserie"}

    Catalog.objects.filter(pk=catalog.pk).update(reference="RÉF-Ø", api_name="Pâte")
    assert catalogs_found("ref-o") == catalogs_found("PATE") == {"Pâtisserie"}

    Catalog.objects.bulk_create([Catalog(id=uuid.uuid4(), name="Smørrebrød")])
    assert catalogs_found("smorrebrod") == {"Smørrebrød"}


@sqlite_only
@pytest.mark.django_db
def test_a_search_reads_folded_copies_and_folds_no_row():
    """Folding a row costs a Python call: a search of 100,000 rows would make 100,000 of them per field."""
    factories.ContactFactory(customer=factories.CustomerFactory(name="Müller AG"), first_name="Jürgen")
    factories.CatalogFactory(name="Müsli")
    calls = []

    def counting_fold(value):
        calls.append(value)
        return folding.sqlite_fold(value)

    connection.ensure_connection()
    connection.connection.create_function(folding.FUNCTION, 1, counting_fold, deterministic=True)
    try:
        assert set(customer_list(q="muller").values_list("name", flat=True)) == {"Müller AG"}
        assert contacts_found("jurgen muller") == {"Jürgen " + Contact.objects.get().last_name}
        assert catalogs_found("musli") == {"Müsli"}
    finally:
        folding.register_sqlite_function(connection.connection)
    assert calls == []


@sqlite_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("folded", "model", "field"), [(contact_search, Contact, "email"), (catalog_search, Catalog, "name")]
)
def test_a_migration_that_rebuilds_a_table_must_reinstall_its_folded_columns(folded, model, field):
    """How SQLite alters a column: a new table, the rows copied, the old one dropped (and its extra columns and
    triggers with it). The check names what is missing and how to restore it."""
    assert folding.check_shadow_columns(None, databases=["default"]) == []
    rebuild_table(model, field)
    (warning,) = folding.check_shadow_columns(None, databases=["default"])
    assert warning.id == "backoffice.W001"
    assert f"{folded.FOLDED.table}_folded_insert" in warning.msg
    assert f"{folded.__name__}.install" in warning.hint
    with connection.schema_editor() as editor:
        folded.install(None, editor)
    assert folding.check_shadow_columns(None, databases=["default"]) == []
    factories.ContactFactory(first_name="Zoë", email="zoë@example.org")
    factories.CatalogFactory(name="Crème")
    assert contacts_found("zoe@") == {"Zoë " + Contact.objects.get().last_name}
    assert catalogs_found("creme") == {"Crème"}
