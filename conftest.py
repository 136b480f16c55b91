"""Fixtures shared by every app's tests."""

import os
from pathlib import Path

import pytest

# pytest-django's live_server runs in a thread while Playwright's sync API runs an event loop
# in the test's thread: Django refuses ORM calls there unless told this is intended.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# CI sets this so that a missing browser fails the browser tests instead of skipping them.
BROWSER_TESTS_REQUIRED = os.environ.get("BROWSER_TESTS_REQUIRED", "") not in ("", "0", "false")
NO_CHROMIUM = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)"
# Flags that keep Chromium from reaching out to Google's hosts: this machine has no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session", autouse=True)
def rollups_emptied_after_flush():
    """Between transactional tests the test runner empties the database with `flush`, then sends post_migrate.

    On SQLite flush empties the tables one by one in no fixed order, and deleting the
    orders logs their negative changes (reports/rollups.py): when the log was emptied
    first, they would be left over, and the next fold would make the rollups negative.
    With no orders, empty them all.
    """
    from django.db.models.signals import post_migrate

    post_migrate.connect(_rollups_of_no_orders_are_empty, dispatch_uid="reports_rollups_after_flush")
    yield
    post_migrate.disconnect(dispatch_uid="reports_rollups_after_flush")


def _rollups_of_no_orders_are_empty(sender, using, **kwargs):
    from django.db import connections

    from orders.models import Order
    from reports.rollups import DELTA_TABLE, FOLD_MARK_TABLE, ROLLUPS

    if sender.label != "reports" or Order.objects.using(using).exists():
        return
    with connections[using].cursor() as cursor:
        for table in [DELTA_TABLE, *(table for table, _key, _grouped_by, _changes in ROLLUPS)]:
            cursor.execute(f"DELETE FROM {table}")
        # flush emptied it too: no order is folded, and the mark is the table's one row.
        cursor.execute(f"DELETE FROM {FOLD_MARK_TABLE}")
        cursor.execute(f"INSERT INTO {FOLD_MARK_TABLE} (id, last_order_id) VALUES (1, 0)")


@pytest.fixture
def bucket(tmp_path, settings):
    """An empty bucket folder that the app is pointed at."""
    folder = tmp_path / "bucket"
    folder.mkdir()
    settings.BUCKET_DIR = folder
    return folder


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright; skips (or fails in CI) without one."""
    if not CHROMIUM.exists():
        if BROWSER_TESTS_REQUIRED:
            pytest.fail(NO_CHROMIUM + "; BROWSER_TESTS_REQUIRED is set", pytrace=False)
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class BrowserPage:
    """A Playwright page that records console errors and every request to another host."""

    def __init__(self, page, live_server_url: str):
        self.page = page
        self.base_url = live_server_url
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("request", self._request_seen)

    def _request_seen(self, request):
        if not request.url.startswith((self.base_url, "data:", "blob:", "about:")):
            self.foreign_requests.append(request.url)

    def goto(self, path: str, **kwargs):
        return self.page.goto(self.base_url + path, **kwargs)

    def __getattr__(self, name):
        return getattr(self.page, name)


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser context and page on the live server, signed out."""
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = BrowserPage(context.new_page(), live_server.url)
    yield page
    context.close()


@pytest.fixture
def browser_login(browser_page, django_user_model):
    """Sign a user in through the admin login form; return the page.

    With no user given, a superuser is created.
    """

    def login(user=None, *, password: str = "browser-test-password"):
        if user is None:
            user = django_user_model.objects.create_superuser("browser-admin", "admin@example.com", password)
        else:
            user.set_password(password)
            user.save()
        browser_page.goto("/admin/login/")
        browser_page.fill("#id_username", user.get_username())
        browser_page.fill("#id_password", password)
        browser_page.click("input[type=submit]")
        browser_page.wait_for_url("**/admin/")
        return browser_page

    return login


# `SCREENSHOT_DIR=docs/screenshots python3 dev.py test -m browser` refreshes the README's pictures.
SCREENSHOT_DIR = os.environ.get("SCREENSHOT_DIR")


@pytest.fixture
def screenshot():
    """Save a full-page picture of the page for the README, when SCREENSHOT_DIR is set; else do nothing."""

    def take(page, name: str) -> None:
        if SCREENSHOT_DIR:
            page.screenshot(path=os.path.join(SCREENSHOT_DIR, name), full_page=True)

    return take
