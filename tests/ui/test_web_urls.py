"""A URL from Qwoty or from staff becomes a link only when it is http or https: a `javascript:` logo pulled from
the sandbox is not kept (a warning says so, and the customer's page shows Qwoty's value as text), and the forms
refuse any other scheme."""

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from backoffice.sync import push
from backoffice.sync.models import SyncStatus
from backoffice.sync.pull import pull_record
from customers.models import Customer
from customers.services import customer_update
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_LOGO = "javascript:alert(document.domain)//"
HTMX = {"HX-Request": "true"}


def links_on(page: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', page)


def set_upstream_logo(sandbox, customer_id, logo) -> None:
    sandbox.api("PATCH", f"customers/{customer_id}", json={"logo": logo}).raise_for_status()
    sandbox.clear_log()


@pytest.fixture
def manager(client):
    client.force_login(factories.manager_user())
    return client


def test_a_pulled_javascript_logo_is_not_kept_and_the_pull_says_so(sandbox, manager, caplog):
    customer_id = sandbox.api("GET", "customers", params={"per_page": 1}).json()["data"][0]["id"]
    set_upstream_logo(sandbox, customer_id, HOSTILE_LOGO)
    with caplog.at_level(logging.WARNING, logger="backoffice.sync.mirror"):
        output = io.StringIO()
        call_command("qwoty_pull", "--no-progress", "--only", "customers", stdout=output)
    assert "0 failed" in output.getvalue()
    customer = Customer.objects.get(pk=customer_id)
    assert (customer.logo, customer.last_synced["logo"]) == (None, HOSTILE_LOGO)
    assert f"Not kept: the logo of customer {customer_id} in Qwoty is not an http or https URL" in caplog.text
    page = manager.get(reverse("customer-detail", args=[customer_id])).content.decode()
    assert not [href for href in links_on(page) if "javascript" in href.lower()]
    assert "Not kept: Qwoty's logo is not an http or https link" in page
    assert HOSTILE_LOGO in page  # as text, for staff to fix in Qwoty


def test_a_refresh_with_a_javascript_logo_keeps_none_and_sends_nothing_back(pulled, drain):
    customer = Customer.objects.exclude(logo=None).first()
    set_upstream_logo(pulled, customer.pk, HOSTILE_LOGO)
    assert pull_record(customer) == "updated"
    customer.refresh_from_db()
    assert (customer.logo, customer.sync_status) == (None, SyncStatus.SYNCED)
    customer_update(customer=customer, user=None, data={"name": "Renamed here"})
    drain()
    assert [entry["body"] for entry in pulled.received("PATCH")] == [{"name": "Renamed here"}]  # no logo: null


def test_a_javascript_logo_in_a_push_answer_is_not_kept(pulled, caplog):
    customer = Customer.objects.exclude(logo=None).first()
    set_upstream_logo(pulled, customer.pk, HOSTILE_LOGO)  # changed in Qwoty since our pull: the answer carries it
    customer_update(customer=customer, user=None, data={"name": "Renamed here"})
    with caplog.at_level(logging.WARNING, logger="backoffice.sync.mirror"):
        assert push.push_now("customers", customer.pk) == "pushed"
    customer.refresh_from_db()
    assert (customer.name, customer.logo, customer.sync_status) == ("Renamed here", None, SyncStatus.SYNCED)
    assert "is not an http or https URL" in caplog.text


def test_a_logo_stored_before_this_check_is_shown_as_text_not_a_link(manager):
    customer = factories.CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(logo=HOSTILE_LOGO)
    page = manager.get(reverse("customer-detail", args=[customer.pk])).content.decode()
    assert not [href for href in links_on(page) if "javascript" in href.lower()]
    assert "(not an http or https link)" in page


@pytest.mark.parametrize("logo", [HOSTILE_LOGO, "ftp://files.example.com/logo.png", "data:image/png;base64,AAAA"])
def test_the_customer_form_takes_only_http_and_https_logos(manager, logo):
    customer = factories.CustomerFactory()
    data = {"version": customer.version, "name": customer.name, "type": customer.type, "logo": logo}
    response = manager.post(reverse("customer-update", args=[customer.pk]), data, headers=HTMX)
    assert response.status_code == 422
    customer.refresh_from_db()
    assert customer.logo != logo

    ok = {**data, "logo": "https://logos.example.com/acme.png"}
    assert manager.post(reverse("customer-update", args=[customer.pk]), ok, headers=HTMX).status_code == 200
    assert Customer.objects.get(pk=customer.pk).logo == "https://logos.example.com/acme.png"


def test_the_admin_links_and_takes_only_http_and_https_logos(client):
    client.force_login(factories.superuser())
    customer = factories.CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(logo="ftp://files.example.com/logo.png")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url).content.decode()
    assert "ftp://files.example.com/logo.png" in page
    assert not [href for href in links_on(page) if href.startswith("ftp:")]

    form = {"name": customer.name, "type": customer.type, "logo": "ftp://files.example.com/other.png"}
    form |= {f"tax_ids-{key}": value for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()}
    response = client.post(url, form)
    assert response.status_code == 200  # the form again, with the error
    assert Customer.objects.get(pk=customer.pk).logo == "ftp://files.example.com/logo.png"
