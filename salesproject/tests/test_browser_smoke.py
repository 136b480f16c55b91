"""The browser-test harness itself: a real Chromium signs in to the admin."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_to_the_admin_in_chromium_with_no_request_to_another_host(browser_login):
    page = browser_login()

    assert page.locator("#site-name").inner_text() == "Django administration"
    assert page.foreign_requests == []
    assert page.console_errors == []
