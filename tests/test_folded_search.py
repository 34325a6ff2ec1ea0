"""Searching whatever the case and accents (backoffice/folding.py): the fold, in Python and in PostgreSQL."""

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from backoffice import folding
from backoffice.folding import fold
from customers.selectors import customer_list
from tests import factories

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
