"""Alerts in a real browser: a manager sees a raised alert and its notice on the dashboard, under the CSP."""

import pytest
from playwright.sync_api import expect

from backoffice.sync import recovery
from catalogs.models import Catalog
from catalogs.services import catalog_update
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_manager_sees_a_raised_alert_and_its_notices_on_the_dashboard(staff, pulled, drain, settings):
    settings.ALERT_FAILURE_THRESHOLD = 3
    settings.QWOTY_PUSH_MAX_ATTEMPTS = 3
    mona = factories.manager_user(email="mona@example.com")
    pulled.faults(outage=True)
    catalog = Catalog.objects.order_by("name").first()
    catalog_update(catalog=catalog, user=factories.sales_ops_user(), data={"name": "Never arrives"})
    drain()  # three calls, all 503: Qwoty is failing and the catalog failed for good
    assert recovery.sweep()["alerts"] == 2

    manager = staff(mona)
    alerts = manager.page.get_by_role("region", name="Alerts")
    raised = alerts.get_by_role("list", name="Raised now")
    expect(raised).to_contain_text("Qwoty failing since")
    expect(raised).to_contain_text("Qwoty is failing: 3 failed pushes in 10 min")
    expect(raised).to_contain_text("Qwoty failed records since")

    notice = alerts.get_by_role("list", name="Last notices").locator("details").filter(has_text="1 record failed")
    notice.locator("summary").click()
    expect(notice).to_contain_text("catalog “Never arrives”: Gave up after 3 attempts: Service unavailable")
    expect(notice).to_contain_text("Emailed to 1 address.")
    manager.screenshot("dashboard-alerts")

    sales = staff(factories.sales_ops_user())
    expect(sales.page.get_by_role("heading", name="Recent changes by staff")).to_be_visible()
    expect(sales.page.get_by_role("region", name="Alerts")).to_have_count(0)
