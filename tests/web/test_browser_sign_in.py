"""Signing in in a real browser from the captured email, then Settings (issue 17).

Headless chromium opens a contract page without a session, is sent to the sign-in form,
asks for a link; aiosmtpd captures the email; chromium opens its link, presses Continue
and lands on Settings (where it was going), saves a digest choice and replaces the
calendar address. Every page passes axe-core (no serious or critical violation), does
not scroll sideways at 320 px, and is screenshotted into docs/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import Browser
from support.people import LANCS_OWNER
from support.web import Site, run_sql, text_part

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

_LINK = re.compile(r"(http://\S+/sign-in/[A-Za-z0-9_-]+)")


def _press(browser: Browser, selector: str) -> None:
    button = browser.driver.find_element(By.CSS_SELECTOR, selector)
    button.click()
    WebDriverWait(browser.driver, 15).until(
        expected_conditions.staleness_of(button), "the next page after the POST"
    )


def test_sign_in_from_the_emailed_link_then_settings(browser: Browser, site: Site) -> None:
    base = site.served.base_url
    browser.driver.get(f"{base}/settings")
    assert browser.heading() == "Sign in"
    browser.check_page("sign-in")

    browser.driver.find_element(By.ID, "email").send_keys(LANCS_OWNER)
    _press(browser, "main form button[type=submit]")
    assert browser.heading() == "Check your email"
    browser.check_page("check-email")

    received = site.smtp.wait_for(1)[0]
    link = _LINK.search(text_part(received.message))
    assert link, text_part(received.message)
    browser.driver.get(link.group(1))
    assert browser.heading() == "Sign in to contract-tracker"
    browser.check_page("continue")
    _press(browser, "main form button[type=submit]")

    assert browser.heading() == "Settings"
    assert browser.driver.current_url == f"{base}/settings"
    browser.check_page("settings")

    browser.driver.find_element(By.ID, "frequency-daily").click()
    time = browser.driver.find_element(By.ID, "time")
    time.clear()
    time.send_keys("07:30")
    _press(browser, "form[action='/settings'] button")
    assert "Your digest settings are saved." in browser.driver.page_source
    rows = run_sql(site.url, "SELECT digest, digest_time FROM recipients")
    assert rows == [("daily", "07:30")]

    old = browser.driver.find_element(By.ID, "calendar-url").text
    _press(browser, "form[action='/settings/calendar'] button")
    assert browser.driver.find_element(By.ID, "calendar-url").text != old

    _press(browser, "form[action='/sign-out'] button")
    assert browser.heading() == "Sign in"
    assert "You have signed out" in browser.driver.page_source
