"""What every browser test shares: Debian's Chromium through Playwright, logged-in staff, a push worker thread.

Test modules import the fixtures they use (`chromium`, `push_worker`, `staff`); screenshots go to
test-output/screenshots/ for people to look at.
"""

import os
import threading
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from playwright import sync_api as playwright_api

from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
PUSH_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (Playwright cannot download its own here)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def push_worker(transactional_db):
    """The real task worker loop in a background thread (db_worker itself wants the main thread for signals)."""
    worker = Worker(
        queue_names=["default"],
        interval=0.05,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-tests",
        excluded_queue_names=[],
    )

    def run():
        try:
            worker.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="push-worker", daemon=True)
    thread.start()
    yield worker
    worker.running = False
    thread.join(timeout=15)


class Staff:
    """A logged-in browser context for one user, failing the test on any JavaScript error."""

    def __init__(self, chromium, live_server, user, viewport=WIDE):
        self.base = live_server.url
        self.context = chromium.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", factories.PASSWORD)
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(f"{self.base}/")

    def goto(self, path: str):
        return self.page.goto(f"{self.base}{path}")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@pytest.fixture
def staff(chromium, live_server):
    opened: list[Staff] = []

    def open_as(user, viewport=WIDE) -> Staff:
        opened.append(Staff(chromium, live_server, user, viewport))
        return opened[-1]

    yield open_as
    for browser_context in opened:
        browser_context.close()
