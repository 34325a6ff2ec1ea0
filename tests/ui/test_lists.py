"""The customer, contact and catalog lists: search as you type, filters, sorting, cheap pagination."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.sync.models import SyncStatus
from backoffice.sync.targets import target_state
from backoffice.ui import listing
from catalogs.models import Catalog
from customers.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def sales(client):
    client.force_login(factories.sales_ops_user())
    return client


def names(response) -> list[str]:
    """The record names linked from the first column of the results table."""
    html = response.content.decode()
    return re.findall(r'<td class="primary-cell"><a href="[^"]+">([^<]+)</a>', html)


def test_customer_search_matches_name_tax_id_and_external_ids(sales):
    acme = factories.CustomerFactory(name="Acme Logística", id_erp="ERP-778")
    factories.TaxIdFactory(customer=acme, tax="VAT", tax_value="FR40303265045")
    factories.CustomerFactory(name="Borealis GmbH")
    url = reverse("customer-list")
    assert names(sales.get(url, {"q": "acme"})) == ["Acme Logística"]
    assert names(sales.get(url, {"q": "FR 403 032"})) == ["Acme Logística"]  # spaces as people type them
    assert names(sales.get(url, {"q": "erp-778"})) == ["Acme Logística"]
    assert names(sales.get(url, {"q": "acme borealis"})) == []  # every word must match
    assert names(sales.get(url, {"q": str(acme.pk)})) == ["Acme Logística"]


def test_a_search_too_long_or_with_a_nul_is_cut_not_dropped(sales):
    """Dropped, it would list every record as if they all matched."""
    factories.CustomerFactory(name="Acme Logística")
    factories.CustomerFactory(name="Borealis GmbH")
    url = reverse("customer-list")
    assert names(sales.get(url, {"q": "acme " + "x" * 300})) == []  # the first 200 characters: no such customer
    assert names(sales.get(url, {"q": "acme" + " " * 196 + "borealis"})) == ["Acme Logística"]
    assert names(sales.get(url, {"q": "ac\x00me"})) == ["Acme Logística"]


def test_contact_search_finds_a_phone_written_any_way(sales):
    factories.ContactFactory(first_name="Chloé", last_name="Martin", phone="+33 6 99 88 77 66")
    factories.ContactFactory(first_name="Hugo", last_name="Roux", phone="+33 6 11 22 33 44")
    url = reverse("contact-list")
    for typed in ("06 99 88 77 66", "+33699887766", "99.88.77", "0699887766"):
        assert names(sales.get(url, {"q": typed})) == ["Chloé Martin"], typed


def test_contact_search_matches_email_customer_and_full_name(sales):
    customer = factories.CustomerFactory(name="Tramontana Textil")
    factories.ContactFactory(customer=customer, first_name="Inès", last_name="Girard", email="ines@tramontana.fr")
    factories.ContactFactory(first_name="Inès", last_name="Dubois")
    url = reverse("contact-list")
    assert names(sales.get(url, {"q": "ines@tram"})) == ["Inès Girard"]
    assert names(sales.get(url, {"q": "tramontana"})) == ["Inès Girard"]
    assert names(sales.get(url, {"q": "inès girard"})) == ["Inès Girard"]


def test_customer_search_ignores_case_and_accents(sales):
    factories.CustomerFactory(name="González Müller SA")
    factories.CustomerFactory(name="Gonzalez Ltda")
    factories.CustomerFactory(name="Mullerova sro")
    url = reverse("customer-list")
    assert sorted(names(sales.get(url, {"q": "gonzalez"}))) == ["Gonzalez Ltda", "González Müller SA"]
    assert names(sales.get(url, {"q": "GONZÁLEZ MULLER"})) == ["González Müller SA"]
    assert sorted(names(sales.get(url, {"q": "müller"}))) == ["González Müller SA", "Mullerova sro"]


def test_contact_search_ignores_case_and_accents(sales):
    customer = factories.CustomerFactory(name="Société Générale Ltée")
    factories.ContactFactory(customer=customer, first_name="José", last_name="Ñúñez", email="jose@societe.example")
    factories.ContactFactory(first_name="Jörg", last_name="Müller", email="JOERG@EXAMPLE.COM", id_crm="CRM-Ø1")
    factories.ContactFactory(first_name="Jose", last_name="Nunez")
    url = reverse("contact-list")
    assert sorted(names(sales.get(url, {"q": "nunez"}))) == ["Jose Nunez", "José Ñúñez"]
    assert sorted(names(sales.get(url, {"q": "JOSÉ ÑÚÑEZ"}))) == ["Jose Nunez", "José Ñúñez"]
    assert names(sales.get(url, {"q": "societe generale"})) == ["José Ñúñez"]  # the customer's name
    assert names(sales.get(url, {"q": "MULLER"})) == ["Jörg Müller"]
    assert names(sales.get(url, {"q": "joerg@example"})) == ["Jörg Müller"]
    assert names(sales.get(url, {"q": "crm-o1"})) == ["Jörg Müller"]


def test_catalog_search_ignores_case_and_accents(sales):
    factories.CatalogFactory(name="Café Crème", reference="RÉF-1", api_name="cafe_creme")
    factories.CatalogFactory(name="Creme brulee", reference="REF-2")
    url = reverse("catalog-list")
    assert names(sales.get(url, {"q": "cafe creme"})) == ["Café Crème"]
    assert sorted(names(sales.get(url, {"q": "CRÈME"}))) == ["Café Crème", "Creme brulee"]
    assert names(sales.get(url, {"q": "ref-1"})) == ["Café Crème"]


def test_filters_narrow_each_list(sales):
    factories.CustomerFactory(name="Company one", type=Customer.Type.COMPANY)
    factories.CustomerFactory(name="Person one", type=Customer.Type.INDIVIDUAL)
    segment = factories.CustomerFactory(name="In segment", segment_id="6f1c2a52-7d1f-4a55-9d3b-2b0c8f3f6a11")
    factories.ContactFactory(first_name="Bea", last_name="Buyer", role=["buyer"])
    factories.ContactFactory(first_name="Sid", last_name="Signer", role=["signer", "legal"])
    factories.CatalogFactory(name="On", is_active=True)
    factories.CatalogFactory(name="Off", is_active=False)
    failed = factories.CatalogFactory(name="Broken")
    Catalog.objects.filter(pk=failed.pk).update(sync_status=SyncStatus.FAILED)

    customers = reverse("customer-list")
    assert names(sales.get(customers, {"type": "individual"})) == ["Person one"]
    assert names(sales.get(customers, {"segment": str(segment.segment_id)})) == ["In segment"]
    assert "In segment" not in names(sales.get(customers, {"segment": "none"}))
    assert names(sales.get(reverse("contact-list"), {"role": "legal"})) == ["Sid Signer"]
    catalogs = reverse("catalog-list")
    assert names(sales.get(catalogs, {"active": "no"})) == ["Off"]
    assert names(sales.get(catalogs, {"sync_status": "failed"})) == ["Broken"]


def test_columns_sort_both_ways(sales):
    for name in ("Bravo", "Alpha", "Charlie"):
        factories.CatalogFactory(name=name)
    url = reverse("catalog-list")
    assert names(sales.get(url, {"sort": "name"})) == ["Alpha", "Bravo", "Charlie"]
    assert names(sales.get(url, {"sort": "-name"})) == ["Charlie", "Bravo", "Alpha"]
    html = sales.get(url, {"sort": "name", "q": "a"}).content.decode()
    assert 'href="/catalogs/?sort=-name&amp;q=a"' in html or 'href="/catalogs/?q=a&amp;sort=-name"' in html


def test_invalid_parameters_fall_back_to_defaults(sales):
    factories.CatalogFactory(name="Only")
    response = sales.get(reverse("catalog-list"), {"sort": "password", "page": "x", "per_page": "9999"})
    assert response.status_code == 200
    assert names(response) == ["Only"]


def test_pages_know_their_next_page_without_counting_everything(sales, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 30)
    factories.CatalogFactory.create_batch(40)
    url = reverse("catalog-list")
    first = sales.get(url, {"per_page": 25})
    assert len(names(first)) == 25
    assert "1\N{EN DASH}25 of 30+ catalogs" in first.content.decode()
    assert 'rel="next"' in first.content.decode()
    second = sales.get(url, {"per_page": 25, "page": 2})
    assert len(names(second)) == 15
    assert "26\N{EN DASH}40 of 40 catalogs" in second.content.decode()
    assert 'rel="next"' not in second.content.decode()


def test_count_is_capped_in_sql(monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    factories.CatalogFactory.create_batch(8)
    with CaptureQueriesContext(connection) as queries:
        page = listing.paginate(Catalog.objects.order_by("name"), number=1, per_page=2)
    assert (page.count, page.count_capped, page.has_next) == (5, True, True)
    ids_query, rows_query = (query["sql"] for query in queries.captured_queries)
    assert "LIMIT 6" in ids_query
    assert "COUNT(" not in ids_query + rows_query


ROW_MAKERS = [
    ("customer-list", lambda n: [factories.TaxIdFactory().customer for _ in range(n)]),
    ("contact-list", lambda n: factories.ContactFactory.create_batch(n)),
    ("catalog-list", lambda n: factories.CatalogFactory.create_batch(n)),
]


@pytest.mark.parametrize(("url_name", "make_rows"), ROW_MAKERS)
def test_a_page_costs_the_same_queries_whatever_its_size(sales, url_name, make_rows):
    url = reverse(url_name)

    def queries_for_rows(count: int) -> int:
        for model in (Customer, Catalog):
            model.objects.all().delete()
        make_rows(count)
        with CaptureQueriesContext(connection) as queries:
            response = sales.get(url, {"per_page": 25}, headers=HTMX)
        assert len(names(response)) == count
        return len(queries)

    assert queries_for_rows(2) == queries_for_rows(25)


@pytest.mark.parametrize(("url_name", "make_rows"), ROW_MAKERS)
def test_a_full_page_costs_at_most_six_queries_whatever_its_size(
    sales, url_name, make_rows, django_assert_max_num_queries
):
    target_state()  # a back office that has pushed before: the banner reads the target's row
    make_rows(105)
    cache.clear()
    sales.get(reverse(url_name))  # the customer list caches its segment choices a minute: one more query
    for per_page in (25, 100):
        # Session, user, permissions, page ids, page rows, push banner.
        with django_assert_max_num_queries(6):
            response = sales.get(reverse(url_name), {"per_page": per_page})
        assert len(names(response)) == per_page
    # The last page: on PostgreSQL read from the list's end, with the row count in the same query as the ids.
    with django_assert_max_num_queries(6):
        response = sales.get(reverse(url_name), {"per_page": 25, "page": 5})
    assert len(names(response)) == 5


def test_htmx_search_answers_only_the_results_and_varies_on_htmx(sales):
    factories.CustomerFactory(name="Acme")
    response = sales.get(reverse("customer-list"), {"q": "acme"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_back_button_history_restore_gets_the_whole_page(sales):
    response = sales.get(
        reverse("customer-list"), {"q": "acme"}, headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_empty_states_say_what_to_do(sales):
    url = reverse("customer-list")
    assert "qwoty_pull" in sales.get(url).content.decode()
    factories.CustomerFactory(name="Acme")
    no_match = sales.get(url, {"q": "zzz"}).content.decode()
    assert "No customer matches." in no_match
    assert "clear the filters" in no_match


def test_customer_rows_show_each_tax_id_on_its_line_escaped(sales):
    acme = factories.CustomerFactory(name="Acme")
    factories.TaxIdFactory(customer=acme, tax="eu_vat", tax_value="FR40303265045", position=0)
    factories.TaxIdFactory(customer=acme, tax="<b>odd</b>", tax_value="42", position=1)
    factories.CustomerFactory(name="Zeta")
    html = sales.get(reverse("customer-list")).content.decode()
    acme_row, zeta_row = re.findall(r'<td data-label="Tax IDs">(.*?)</td>', html)
    assert sorted(re.findall(r'<span class="cell-sub mono">([^<]*)</span>', acme_row)) == [
        "&lt;b&gt;odd&lt;/b&gt; 42",
        "eu_vat FR40303265045",
    ]
    assert zeta_row == '<span class="muted">—</span>'


def test_contacts_of_one_customer_name_it(sales):
    customer = factories.CustomerFactory(name="Orion Pharma")
    factories.ContactFactory(customer=customer, first_name="Ana", last_name="Silva")
    factories.ContactFactory(first_name="Other", last_name="Person")
    response = sales.get(reverse("contact-list"), {"customer": str(customer.pk)})
    assert names(response) == ["Ana Silva"]
    assert "Contacts of Orion Pharma" in response.content.decode()


def test_row_links_are_the_urls_django_reverses(sales):
    contact = factories.ContactFactory(first_name="Ana", last_name="Silva")
    html = sales.get(reverse("contact-list")).content.decode()
    assert f'<a href="{reverse("contact-detail", args=[contact.pk])}">Ana Silva</a>' in html
    assert f'<a href="{reverse("customer-detail", args=[contact.customer_id])}">' in html
    assert f'hx-post="{reverse("contact-roles", args=[contact.pk])}"' in html


def test_filters_show_what_is_selected(sales):
    html = sales.get(reverse("contact-list"), {"role": "legal", "sync_status": "failed"}).content.decode()
    assert '<select name="role" id="id_role">' in html
    assert '<option value="legal" selected>Legal</option>' in html
    assert '<option value="failed" selected>Failed</option>' in html
    bogus = sales.get(reverse("contact-list"), {"role": "<script>"}).content.decode()
    assert " selected" not in bogus.split('id="id_role">')[1].split("</select>")[0]


@pytest.mark.django_db
def test_a_page_past_the_end_says_so_and_leads_back(client):
    client.force_login(factories.sales_ops_user())
    factories.CatalogFactory(name="Only one")
    page = client.get("/catalogs/", {"page": 5, "q": "Only"}).content.decode()
    assert "Page 5 is past the end." in page
    assert 'href="?q=Only"' in page
    assert "No catalogs yet" not in page
