"""Staff scenarios in a real browser: Playwright drives Debian's Chromium against the live server.

The live server and a background push worker (django-tasks-db's own worker loop, in a thread)
share the test database; the sandbox plays Qwoty. Screenshots of the main pages are saved in
test-output/screenshots/ for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from backoffice.sync.models import SyncStatus
from catalogs.models import Catalog
from contacts.models import Contact
from customers.models import Customer
from tests import factories
from tests.browser.fixtures import PHONE, PUSH_TIMEOUT_MS, SCREENSHOTS, WIDE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sales_ops_finds_a_customer_renames_it_and_sees_it_reach_qwoty(staff, pulled, push_worker):
    customer = Customer.objects.exclude(tax_ids=None).order_by("name").first()
    sales = staff(factories.sales_ops_user(first_name="Sam", last_name="Sales"))
    page = sales.page
    sales.screenshot("dashboard")

    sales.goto("/customers/")
    sales.screenshot("customer-list")
    page.keyboard.press("/")  # the search shortcut
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type(customer.name)
    expect(page).to_have_url(re.compile(r"/customers/\?q="))  # bookmarkable
    expect(page.locator("#results tbody tr")).to_have_count(Customer.objects.filter(name=customer.name).count())
    page.get_by_role("link", name=customer.name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(customer.name)
    expect(page.locator("#sync-panel")).to_contain_text("Qwoty has this version")
    sales.screenshot("customer-detail")

    pulled.faults(latency_ms=1200)  # slow enough to see the push under way
    page.get_by_role("link", name="Edit customer").click()
    page.wait_for_load_state()  # htmx set up: an Enter before it is the plain form's POST (which works, differently)
    page.fill("#id_name", "Renamed in the browser")
    page.locator("#id_name").press("Enter")  # forms submit with Enter
    outcome = page.locator("#push-outcome")
    expect(outcome).to_contain_text("Saved. Sending to Qwoty")
    expect(page.locator("#record-breadcrumb")).to_contain_text("Renamed in the browser")
    badge = page.locator(f"#sync-{customer.pk}")
    expect(badge).to_have_class(re.compile(r"badge-(pending|pushing)"))
    sales.screenshot("customer-edit-pending")
    expect(badge).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)  # the badge polled until the push ended
    expect(outcome).to_contain_text("Saved, and Qwoty has it.", timeout=PUSH_TIMEOUT_MS)  # and so did the notice
    sales.screenshot("customer-edit-synced")

    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Renamed in the browser"}]
    customer.refresh_from_db()
    assert (customer.name, customer.sync_status) == ("Renamed in the browser", SyncStatus.SYNCED)

    page.get_by_role("link", name="View the customer").click()
    expect(page.locator("#change-history")).to_contain_text("Sam Sales")
    expect(page.locator("#sync-panel .attempt")).to_have_count(1)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/edit/$"))


def test_support_toggles_a_role_and_cannot_reach_catalog_editing(staff, pulled, push_worker):
    contact = Contact.objects.exclude(role__icontains='"legal"').exclude(email=None).order_by("last_name").first()
    support = staff(factories.support_user())
    page = support.page
    expect(page.locator("nav.mainnav")).not_to_contain_text("Catalogs")

    support.goto(f"/contacts/?q={contact.email}")
    row = page.locator(f"#contact-{contact.pk}")
    chip = row.get_by_role("button", name="Legal")
    expect(chip).to_have_attribute("aria-pressed", "false")
    support.screenshot("contact-list")
    chip.focus()
    page.keyboard.press("Enter")
    expect(row.get_by_role("button", name="Legal")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#role-{contact.pk}-legal")).to_be_focused()  # the next role is one Tab away
    expect(row.locator(f"#sync-{contact.pk}")).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)
    contact.refresh_from_db()
    assert "legal" in contact.role
    assert pulled.received("PATCH")[-1]["body"] == {"role": contact.role}

    support.goto(f"/contacts/{contact.pk}/")
    support.screenshot("contact-detail")

    catalog = Catalog.objects.first()
    response = support.goto(f"/catalogs/{catalog.pk}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You can't open this page")
    support.screenshot("forbidden")


def test_a_second_person_editing_the_same_record_is_told_instead_of_overwriting(staff, pulled, push_worker):
    catalog = Catalog.objects.order_by("name").first()
    first = staff(factories.sales_ops_user(first_name="Ada", last_name="First"))
    second = staff(factories.manager_user(first_name="Bo", last_name="Second"))
    for person in (first, second):
        person.goto(f"/catalogs/{catalog.pk}/edit/")

    first.page.fill("#id_name", "Ada's name")
    first.page.get_by_role("button", name="Save", exact=True).click()
    expect(first.page.locator("#push-outcome")).to_be_visible()

    second.page.fill("#id_name", "Bo's name")
    second.page.fill("#id_reference", "BO-REF")
    second.page.get_by_role("button", name="Save", exact=True).click()
    stale = second.page.locator("#record-form .alert-warning")
    expect(stale).to_contain_text("Someone else saved this catalog while you were editing")
    expect(stale).to_contain_text("Ada First")
    expect(stale).to_contain_text("Ada's name")
    expect(stale).not_to_contain_text("Reference")  # only Ada changed the name: the reference is no question
    expect(second.page.locator("#id_reference")).to_have_value("BO-REF")  # their input is kept
    second.screenshot("catalog-edit-stale")
    catalog.refresh_from_db()
    assert (catalog.name, catalog.reference) == ("Ada's name", catalog.reference)

    second.page.get_by_role("button", name="Save mine anyway").click()
    expect(second.page.locator("#push-outcome")).to_contain_text("Saved")
    catalog.refresh_from_db()
    assert (catalog.name, catalog.reference) == ("Bo's name", "BO-REF")

    # Ada's form is a version behind now; her change to another field is saved without a question.
    first.page.fill("#id_description", "Ada's description")
    first.page.get_by_role("button", name="Save", exact=True).click()
    expect(first.page.locator("#push-outcome")).to_contain_text("their changes are kept")
    catalog.refresh_from_db()
    assert (catalog.name, catalog.reference, catalog.description) == ("Bo's name", "BO-REF", "Ada's description")


def test_catalog_list_switch_and_bulk_deactivation(staff, pulled, push_worker):
    manager = staff(factories.manager_user())
    page = manager.page
    manager.goto("/catalogs/?active=yes")
    manager.screenshot("catalog-list")
    active = Catalog.objects.filter(is_active=True).count()

    first_row = page.locator("#results tbody tr").first
    first_row.get_by_role("switch").click()
    expect(first_row.get_by_role("switch")).to_have_attribute("aria-checked", "false")

    page.locator("input[data-select-all]").check()
    expect(page.locator("[data-selected-count]")).to_have_text(f"{active} selected")
    page.get_by_role("button", name="Deactivate", exact=True).click()
    confirm = page.locator("#bulk-confirm")
    expect(confirm).to_contain_text(f"Deactivate {active - 1} catalogs?")
    expect(confirm).to_contain_text("1 of the")
    manager.screenshot("catalog-bulk-confirm")
    confirm.get_by_role("button", name=re.compile(r"^Deactivate \d+ catalogs$")).click()
    expect(confirm).to_contain_text(f"{active - 1} catalogs deactivated.")
    expect(page.locator("#results")).to_contain_text("No catalog matches.")  # the list reloaded with its filter
    assert not Catalog.objects.filter(is_active=True).exists()


def test_a_filtered_list_is_bookmarkable_and_back_returns_to_it(staff, pulled):
    contact = Contact.objects.filter(role__icontains='"buyer"').exclude(last_name=None).order_by("last_name").first()
    sales = staff(factories.sales_ops_user())
    page = sales.page
    sales.goto("/contacts/")
    page.select_option("#id_role", "buyer")
    page.fill("#search", contact.last_name)
    expect(page).to_have_url(re.compile(r"/contacts/\?(?=.*role=buyer)(?=.*q=)"))
    expect(page.locator(f"#contact-{contact.pk}")).to_be_visible()
    filtered_url, rows = page.url, page.locator("#results tbody tr").count()

    page.locator(f"#contact-{contact.pk}").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(contact.last_name)
    page.go_back()
    expect(page).to_have_url(filtered_url)
    expect(page.locator("#search")).to_have_value(contact.last_name)
    expect(page.locator("#id_role")).to_have_value("buyer")
    expect(page.locator(f"#contact-{contact.pk}")).to_be_visible()

    sales.goto(filtered_url.removeprefix(sales.base))  # the bookmark opens the same list
    expect(page.locator("#search")).to_have_value(contact.last_name)
    expect(page.locator("#results tbody tr")).to_have_count(rows)


def test_screenshots_of_the_other_main_pages(staff, pulled):
    catalog = Catalog.objects.order_by("name").first()
    contact = Contact.objects.order_by("last_name").first()
    manager = staff(factories.manager_user(first_name="Mia", last_name="Manager"))
    for name, path in (
        ("catalog-detail", f"/catalogs/{catalog.pk}/"),
        ("catalog-edit", f"/catalogs/{catalog.pk}/edit/"),
        ("contact-edit", f"/contacts/{contact.pk}/edit/"),
        ("customer-search-no-result", "/customers/?q=no-such-customer"),
        ("password-change", "/accounts/password/"),
    ):
        response = manager.goto(path)
        assert response.status == 200, path
        manager.screenshot(name)


def test_main_pages_on_a_phone(staff, pulled):
    customer = Customer.objects.exclude(tax_ids=None).first()
    phone = staff(factories.superuser(), viewport=PHONE)
    for name, path in (
        ("phone-dashboard", "/"),
        ("phone-customer-list", "/customers/"),
        ("phone-customer-detail", f"/customers/{customer.pk}/"),
        ("phone-contact-list", "/contacts/"),
        ("phone-catalog-edit", f"/catalogs/{Catalog.objects.first().pk}/edit/"),
    ):
        phone.goto(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        phone.screenshot(name)


def test_the_sync_queue_an_import_and_a_stale_edit_on_a_phone(staff, pulled):
    """Pages with long cells (an upstream's reason, a long button label, a comparison): none scrolls sideways."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backoffice.imports import services as imports

    catalogs = list(Catalog.objects.order_by("name")[:3])
    reason = "name: must be unique within the workspace (another catalog named so exists already)"
    Catalog.objects.filter(pk=catalogs[0].pk).update(sync_status=SyncStatus.FAILED, sync_error=reason)
    Catalog.objects.filter(pk=catalogs[1].pk).update(sync_status=SyncStatus.PENDING, push_attempts=3, sync_error=reason)
    user = factories.superuser()
    rows = "".join(f"{catalog.pk},Renamed {n}\n" for n, catalog in enumerate(catalogs)) + "not-an-id,Bad\n"
    upload = SimpleUploadedFile("changes.csv", f"id,name\n{rows}".encode(), content_type="text/csv")
    job = imports.import_start(resource="catalogs", user=user, upload=upload)
    phone = staff(user, viewport=PHONE)

    def fits(name: str) -> None:
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px)"
        phone.screenshot(name)

    phone.goto(f"/catalogs/{catalogs[2].pk}/edit/")  # a stale edit: the comparison table
    phone.page.fill("#id_name", "Mine")
    Catalog.objects.filter(pk=catalogs[2].pk).update(name="Theirs", version=catalogs[2].version + 1)
    phone.page.get_by_role("button", name="Save", exact=True).click()
    expect(phone.page.locator("table.conflict")).to_be_visible()
    fits("phone-stale-edit")
    phone.goto("/sync/")
    expect(phone.page.locator("#failed-title")).to_contain_text("(1)")
    fits("phone-sync-queue")
    phone.goto(f"/imports/{job.pk}/")
    expect(phone.page.locator("#import-errors")).to_be_visible()
    fits("phone-import-detail")


def test_login_page(chromium, live_server, transactional_db):
    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(f"{live_server.url}/customers/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/?next=")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.keyboard.press("Enter")
    expect(page.locator(".alert-error")).to_contain_text("Please enter a correct username and password")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    context.close()


def test_leaving_an_edit_form_warns_only_while_changes_are_unsaved(staff, pulled):
    catalog = Catalog.objects.order_by("name").first()
    sales = staff(factories.sales_ops_user())
    page = sales.page
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    sales.goto(f"/catalogs/{catalog.pk}/edit/")
    page.fill("#id_name", "Guarded edit")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/edit/$"))  # the warning kept the page
    assert dialogs == ["beforeunload"]

    page.locator("#id_name").press("Enter")
    expect(page.locator("#push-outcome")).to_contain_text("Saved")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert dialogs == ["beforeunload"]  # saved: no second warning


def test_pages_work_under_the_content_security_policy(staff, pulled):
    """No inline script, style or eval anywhere: the header says so and the browser reports no violation
    (any console error fails the test when the context closes), while htmx swaps and app.js act."""
    manager = staff(factories.manager_user())
    page = manager.page
    response = manager.goto("/catalogs/?active=yes")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-" not in policy

    page.locator("input[data-select-all]").check()
    page.get_by_role("button", name="Deactivate", exact=True).click()
    confirm = page.locator("#bulk-confirm")
    expect(confirm).to_contain_text("catalogs?")
    confirm.get_by_role("link", name="Cancel").click()  # app.js empties the box; no hx-on, no navigation
    expect(confirm).to_be_empty()
    expect(page).to_have_url(re.compile(r"/catalogs/\?active=yes$"))
    assert Catalog.objects.filter(is_active=True).exists()

    page.fill("#search", "a")  # a live search: an htmx request and swap
    expect(page).to_have_url(re.compile(r"/catalogs/\?.*q=a"))

    admin = staff(factories.superuser())  # Django's admin under the same policy
    customer = Customer.objects.order_by("name").first()
    admin.goto("/admin/customers/customer/")
    admin.page.get_by_role("link", name=customer.name, exact=True).first.click()
    expect(admin.page.locator("#customer_form")).to_be_visible()


def test_sales_ops_previews_an_edit_then_saves_it(staff, pulled, push_worker):
    catalog = Catalog.objects.order_by("name").first()
    sales = staff(factories.sales_ops_user())
    page = sales.page
    sales.goto(f"/catalogs/{catalog.pk}/edit/")
    page.fill("#id_name", "")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#id_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_name")).to_be_focused()  # the field to fix, not the top of the page
    page.fill("#id_name", "Previewed in the browser")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator(".preview")
    expect(preview).to_contain_text("Saving would send")
    expect(preview).to_contain_text(f"PATCH {pulled.url}/catalogs/{catalog.pk}")
    expect(preview.locator("pre")).to_contain_text('"name": "Previewed in the browser"')
    expect(page.locator("#id_name")).to_have_value("Previewed in the browser")  # the input is kept
    sales.screenshot("catalog-edit-preview")
    assert Catalog.objects.get(pk=catalog.pk).name == catalog.name  # nothing saved by a preview
    assert pulled.received("PATCH") == []

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#push-outcome")).to_contain_text("Saved")
    expect(page.locator(f"#sync-{catalog.pk}")).to_have_text("Synced", timeout=PUSH_TIMEOUT_MS)
    assert [p["body"] for p in pulled.received("PATCH")] == [{"name": "Previewed in the browser"}]


def test_the_dashboard_shows_the_last_scheduled_refresh_from_qwoty(staff, pulled, push_worker):
    from backoffice.sync import refresh

    catalog = Catalog.objects.order_by("pk").first()
    pulled.api("PATCH", f"catalogs/{catalog.pk}", json={"name": "Renamed in Qwoty"}).raise_for_status()
    refresh.schedule_if_due()  # as the sweep does; the push worker runs it
    manager = staff(factories.manager_user())
    card = manager.page.locator("#last-refresh")
    for _ in range(50):  # the worker runs the refresh in the background: reload until it has finished
        manager.goto("/")
        if "ago" in card.inner_text():
            break
        manager.page.wait_for_timeout(200)
    expect(card).to_contain_text("1 updated")
    manager.screenshot("dashboard-refresh")
    assert Catalog.objects.get(pk=catalog.pk).name == "Renamed in Qwoty"
