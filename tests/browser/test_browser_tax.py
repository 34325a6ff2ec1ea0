"""A manager's tax-ID review in a real browser: filter the invalid ones, fix one in one click, approve it."""

import io
import re
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from customers.models import Customer, TaxId
from tests import factories
from tests.browser.fixtures import PHONE, PUSH_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _a_french_vat_pulled_without_its_prefix(sandbox) -> tuple[Customer, TaxId, list[dict]]:
    """Drop the "FR" of a French company's VAT in Qwoty, pull it: the customer's SIREN tells the country."""
    customer = (
        Customer.objects.filter(tax_ids__tax="SIREN", tax_ids__validation_status="valid")
        .filter(tax_ids__tax="VAT", tax_ids__validation_status="valid", tax_ids__tax_value__startswith="FR")
        .order_by("name")
        .first()
    )
    upstream = [tax_id.as_upstream() for tax_id in customer.tax_ids.all()]
    broken = [dict(item, tax_value=item["tax_value"][2:]) if item["tax"] == "VAT" else item for item in upstream]
    assert sandbox.api("PATCH", f"customers/{customer.pk}", json={"tax_ids": broken}).status_code == 200
    call_command("qwoty_pull", "--no-progress", stdout=io.StringIO())
    sandbox.clear()
    vat = customer.tax_ids.get(tax="VAT")
    original = next(item["tax_value"] for item in upstream if item["tax"] == "VAT")
    assert (vat.validation_status, vat.suggestion) == ("invalid", original)
    return customer, vat, upstream


def _patches_of(sandbox, customer: Customer, *, timeout: float = PUSH_TIMEOUT_MS / 1000) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        patches = [r["body"] for r in sandbox.received("PATCH") if r["path"].endswith(str(customer.pk))]
        if patches:
            return patches
        time.sleep(0.1)
    pytest.fail(f"Qwoty received no PATCH of customer {customer.pk}")


def test_manager_filters_invalid_tax_ids_fixes_one_and_approves_it(staff, pulled, push_worker):
    customer, vat, corrected = _a_french_vat_pulled_without_its_prefix(pulled)
    fixed_value = vat.suggestion
    manager = staff(factories.manager_user(first_name="Mia", last_name="Manager"))
    page = manager.page

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tax IDs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tax IDs")
    page.select_option("#id_validation", "invalid")
    expect(page).to_have_url(re.compile(r"/tax-ids/\?validation=invalid"))
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(TaxId.objects.filter(validation_status="invalid").count())
    expect(rows.locator(".badge", has_text=re.compile(r"^Valid$"))).to_have_count(0)

    row = page.locator(f"#taxid-{vat.pk}")
    expect(row).to_contain_text("Unknown country prefix")
    manager.screenshot("taxid-review-invalid")
    row.get_by_role("button", name=f"Use {fixed_value}").click()
    expect(row).to_contain_text(fixed_value)
    expect(row.locator(".badge", has_text=re.compile(r"^Valid$"))).to_be_visible()
    expect(row.locator(f"#sync-{customer.pk}")).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)

    row.get_by_label(f"Note on VAT {fixed_value}").fill("Prefix was missing; checked on VIES")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text("by Mia Manager")
    manager.screenshot("taxid-review")

    assert _patches_of(pulled, customer) == [{"tax_ids": corrected}]
    vat.refresh_from_db()
    assert (vat.tax_value, vat.validation_status, vat.review_status, vat.reviewed_by.first_name) == (
        fixed_value,
        "valid",
        "approved",
        "Mia",
    )

    manager.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#tax-ids")).to_contain_text("Prefix was missing; checked on VIES")
    manager.screenshot("customer-tax-ids")


def test_review_page_and_tax_id_section_fit_a_phone(staff, pulled):
    customer = Customer.objects.filter(tax_ids__validation_status="invalid").order_by("name").first()
    phone = staff(factories.manager_user(), viewport=PHONE)
    for name, path in (("phone-taxid-review", "/tax-ids/"), ("phone-customer-tax-ids", f"/customers/{customer.pk}/")):
        phone.goto(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        phone.screenshot(name)


def test_manager_approves_all_that_pass_on_a_filter(staff, pulled):
    """The confirmation lives outside the list: its answers must fill it, not replace it."""
    manager = staff(factories.manager_user())
    page = manager.page
    manager.goto("/tax-ids/?country=FR&validation=valid")
    expected = TaxId.objects.filter(validation_status="valid", review_status="unreviewed", country="FR")
    count = expected.count()
    assert count > 1

    page.get_by_role("button", name="Approve all that pass validation…").click()
    confirm = page.locator("#bulk-confirm")
    expect(confirm).to_contain_text(f"Approve {count} tax IDs?")
    confirm.get_by_role("button", name=f"Approve {count} tax IDs").click()
    expect(page.locator("#bulk-confirm")).to_contain_text(f"{count}")
    expect(page.locator("#bulk-confirm [role=status]")).to_be_visible()
    assert not expected.exists()


def test_manager_rejects_from_the_keyboard_and_keeps_the_place(staff, pulled):
    """Refused (no note), then rejected: the row answers each time, without a console error, and the focus stays in
    the row rather than going back to the top of the page."""
    tax_id = TaxId.objects.filter(validation_status="invalid", review_status="unreviewed").order_by("pk").first()
    manager = staff(factories.manager_user())
    page = manager.page
    manager.goto("/tax-ids/?validation=invalid")
    row = page.locator(f"#taxid-{tax_id.pk}")
    focus_in_row = row.locator(":focus")

    row.get_by_role("button", name="Approve").click()  # an invalid ID is approved with a note only
    expect(row).to_contain_text("say why you approve it")
    expect(page.locator(f"#approve-{tax_id.pk}")).to_be_focused()  # the same button, to try again

    row.get_by_label(re.compile("^Note on")).fill("Not a customer of ours any more")
    page.locator(f"#reject-{tax_id.pk}").focus()
    page.keyboard.press("Enter")
    expect(row).to_contain_text("Rejected")
    expect(focus_in_row).to_have_count(1)  # "Reject" is disabled now: the row's first control
    tax_id.refresh_from_db()
    assert (tax_id.review_status, tax_id.review_note) == ("rejected", "Not a customer of ours any more")


def test_cancelling_a_tax_id_edit_on_the_customer_page(staff, pulled):
    customer = Customer.objects.exclude(tax_ids=None).order_by("name").first()
    tax_id = customer.tax_ids.first()
    manager = staff(factories.manager_user())
    page = manager.page
    manager.goto(f"/customers/{customer.pk}/")
    section = page.locator("#tax-ids")
    section.locator(f"#taxid-{tax_id.pk}").get_by_role("link", name="Edit").click()
    expect(section.get_by_role("button", name="Save tax ID")).to_be_visible()
    section.get_by_role("link", name="Cancel").click()
    expect(section.get_by_role("button", name="Save tax ID")).to_have_count(0)
    expect(section).to_contain_text(tax_id.tax_value)
