"""Linking a contact to a secondary target in a real browser: the form, then the card following the push.

The live server and a background push worker (tests/browser/fixtures.py) share the test database; the sandbox
plays Prioticket. Screenshots go to test-output/screenshots/.
"""

import re

import pytest
from playwright.sync_api import expect

from backoffice.sync.models import SyncStatus
from contacts.models import Contact, PrioticketLink
from tests import factories
from tests.browser.fixtures import PUSH_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sales_ops_links_a_contact_to_prioticket_and_sees_it_synced(staff, pulled, push_worker):
    contact = Contact.objects.exclude(email=None).order_by("last_name", "pk").first()
    user = factories.sales_ops_user(first_name="Sam", last_name="Sales")
    sales = staff(user)
    page = sales.page

    sales.goto(f"/contacts/{contact.pk}/")
    prioticket = page.locator("#contact-links #link-prioticket")
    expect(prioticket).to_contain_text("Not linked")  # the card loaded into the contact's page
    sales.screenshot("contact-links-none")

    pulled.faults(latency_ms=1200)  # slow enough to see the push under way
    prioticket.get_by_role("link", name="Link to Prioticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Link to Prioticket")
    expect(page.locator("#id_contact_uid")).to_have_value(str(contact.pk))
    page.fill("#id_order_reference", "ORD-BROWSER")
    page.fill("#id_contact_language", "fr")
    sales.screenshot("contact-link-form")
    page.get_by_role("button", name="Link to Prioticket").click()

    expect(page).to_have_url(re.compile(rf"/contacts/{contact.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Linked to Prioticket; sending the contact now.")
    badge = prioticket.locator(".card-header .badge")
    expect(badge).to_have_text(re.compile("Pending|Pushing"))
    expect(prioticket).to_contain_text("ORD-BROWSER")
    sales.screenshot("contact-links-pending")
    expect(badge).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)  # the card polled until the push ended
    sales.screenshot("contact-links-synced")

    prioticket.get_by_text("Push history").click()
    expect(prioticket.locator(".attempt")).to_have_count(1)
    expect(prioticket.locator(".attempt summary")).to_contain_text("200")
    link = PrioticketLink.objects.get(contact=contact)
    assert (link.sync_status, link.order_reference, link.linked_by) == (SyncStatus.SYNCED, "ORD-BROWSER", user)
    [put] = [entry for entry in pulled.received("PUT") if entry["path"].startswith("/prioticket/")]
    assert put["query"] == {"order_reference": "ORD-BROWSER"}
    assert put["body"]["data"]["contact"]["contact_language"] == "fr"
