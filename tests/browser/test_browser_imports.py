"""Sales Ops import a CSV of contact changes in a real browser: template, upload, preview with an error, confirm,
progress, result, the errors file; and the files that cannot be imported, explained on the upload page."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backoffice.sync.models import SyncStatus
from contacts.models import Contact
from tests import factories
from tests.browser.fixtures import PUSH_TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def csv_file(text: str, name: str = "changes.csv") -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_sales_ops_import_contact_changes_and_see_them_reach_qwoty(staff, pulled, settings, request):
    settings.QWOTY_IMPORT_INLINE_ROWS = 0  # previewed by the worker, with its progress shown
    contact = Contact.objects.order_by("last_name", "pk").first()
    sales = staff(factories.sales_ops_user(first_name="Sam", last_name="Sales"))
    page = sales.page

    sales.goto("/contacts/")
    page.fill("[data-search]", contact.last_name)  # the live search: the template takes the rows it shows
    expect(page.get_by_role("link", name="Import CSV")).to_have_attribute("href", re.compile(r"\?q="))
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the template").click()
    template = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert template[0] == "id,version,first_name,last_name,email,phone,role,id_crm,id_erp,id_accounting"
    assert str(contact.pk) in "\n".join(template)
    assert len(template) - 1 < Contact.objects.count()  # the rows found, not every contact

    # One good row, one with a phone no country has: the preview shows both, nothing is saved yet.
    page.set_input_files("#id_file", csv_file(f"id,first_name,phone\n{contact.pk},Imported,\n{contact.pk}x,Bad,\n"))
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#import-progress")).to_be_visible()  # no worker yet: the rows wait to be checked
    sales.screenshot("import-previewing")
    request.getfixturevalue("push_worker")

    expect(page.locator("#import-summary")).to_contain_text("1 will change · 0 unchanged · 1 with errors")
    expect(page.locator("#import-line-2")).to_contain_text(f"first_name: {contact.first_name} → Imported")
    expect(page.locator("#import-line-3")).to_contain_text(f"“{contact.pk}x” is not a contact id.")
    sales.screenshot("import-preview")
    assert Contact.objects.get(pk=contact.pk).first_name == contact.first_name

    page.get_by_role("button", name="Apply 1 change").click()
    expect(page.locator("#import-result")).to_contain_text("1 saved · 0 conflicts", timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#import-line-2 .badge")).to_have_text("Applied")
    sales.screenshot("import-done")
    with page.expect_download() as download:
        page.locator("#import-errors").click()
    errors = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert errors == ["id,first_name,phone,error", f"{contact.pk}x,Bad,,line 3: “{contact.pk}x” is not a contact id."]

    page.locator("#import-line-2 a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Imported")
    expect(page.locator(f"#sync-{contact.pk}")).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#change-history")).to_contain_text("Sam Sales")
    assert [p["body"] for p in pulled.received("PATCH")] == [{"first_name": "Imported"}]
    contact.refresh_from_db()
    assert (contact.first_name, contact.sync_status) == ("Imported", SyncStatus.SYNCED)


def test_files_that_cannot_be_imported_are_explained_on_the_upload_page(staff, transactional_db, settings):
    catalog = factories.CatalogFactory()
    sales = staff(factories.sales_ops_user())
    page = sales.page
    sales.goto("/catalogs/")
    page.get_by_role("link", name="Import CSV").click()
    cases = [
        ({"name": "logo.csv", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n\x00"}, "This is not a CSV file"),
        (csv_file(f"ID,Name,Colour\n{catalog.pk},A,red\n"), "Unknown or not yours to change: Colour."),
        (csv_file("name\nSpring\n"), "The first line must name the columns, one of them “id”"),
        (csv_file(f"id,name\n{catalog.pk},{'x' * 80}\n"), "This file is 126 bytes; an import takes at most 100 bytes."),
    ]
    settings.QWOTY_IMPORT_MAX_BYTES = 100
    for file, message in cases:
        page.set_input_files("#id_file", file)
        page.get_by_role("button", name="Preview the changes").click()
        expect(page.locator("#import-error")).to_contain_text(message)
        expect(page.get_by_role("heading", level=1)).to_have_text("Import catalogs")  # the same page, to try again
    sales.screenshot("import-refused")
    expect(page).to_have_url(re.compile(r"/catalogs/import/$"))
