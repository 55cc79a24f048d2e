"""The register, funding and deliveries pages in headless chromium: the register's sort
and filter done with the keyboard alone, axe-core on every page (no serious or critical
violation) at 1280 and 320 px, no sideways scrolling at 320 px, and screenshots in
docs/screenshots/. SQLite (the HTTP tests cover both backends)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from register_support import ADMIN, BOB, RegisterSite, fail_two_reminders, owner, serve_register
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import Browser
from support.session import session_cookie

from tracker.web.auth import SESSION_COOKIE

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


@pytest.fixture
def reg(db_url: str, tmp_path: Path) -> Iterator[RegisterSite]:
    yield from serve_register(db_url, tmp_path)


def _sign_in(browser: Browser, site: RegisterSite, email: str) -> None:
    browser.driver.get(site.served.base_url + "/healthz")
    browser.driver.add_cookie({"name": SESSION_COOKIE, "value": session_cookie(email), "path": "/"})


def _refs(browser: Browser) -> list[int]:
    cells = browser.driver.find_elements(By.CSS_SELECTOR, "table.table tbody td:first-child a")
    return [int(re.sub(r"\D", "", cell.text)) for cell in cells]


def _tab_to(browser: Browser, element_id: str) -> WebElement:
    """Press Tab until ``element_id`` has the focus, as a keyboard user would."""
    for _ in range(60):
        active = browser.driver.switch_to.active_element
        if active.get_attribute("id") == element_id:
            return active
        active.send_keys(Keys.TAB)
    raise AssertionError(f"Tab never reached #{element_id}")


def _apply_by_keyboard(browser: Browser) -> None:
    old = browser.driver.find_element(By.TAG_NAME, "h1")
    for _ in range(10):
        active = browser.driver.switch_to.active_element
        if active.text == "Apply":
            active.send_keys(Keys.ENTER)
            WebDriverWait(browser.driver, 15).until(
                lambda d: old.id != d.find_element(By.TAG_NAME, "h1").id
            )
            return
        active.send_keys(Keys.TAB)
    raise AssertionError("Tab never reached the Apply button")


def test_register_sort_and_filter_by_keyboard(browser: Browser, reg: RegisterSite) -> None:
    _sign_in(browser, reg, ADMIN)
    browser.driver.get(reg.served.base_url + "/register")
    assert _refs(browser) == list(range(1, 21))
    browser.check_page("register")

    # Sort by money at risk: Tab to the select, type to choose, Tab on to Apply, Enter.
    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    _tab_to(browser, "sort").send_keys("Money")
    _apply_by_keyboard(browser)
    assert "sort=risk" in browser.driver.current_url
    assert _refs(browser)[:5] == [5, 10, 15, 20, 25]

    # Then filter to Bob's contracts, still sorted by risk.
    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    _tab_to(browser, "owner").send_keys("bob")
    _apply_by_keyboard(browser)
    expected = [i for i in range(1, 26) if owner(i) == BOB]
    assert sorted(_refs(browser)) == expected
    assert _refs(browser)[:2] == [10, 25]  # Bob's two with money at risk, most first
    assert browser.driver.find_element(By.ID, "owner").get_attribute("value") == BOB

    browser.driver.get(reg.served.base_url + "/register?page=2")
    browser.check_page("register-page-2")
    browser.driver.get(reg.served.base_url + "/register?within=-3&sort=colour")
    assert "There is a problem" in browser.driver.page_source
    browser.check_page("register-errors")


def test_funding_and_deliveries_pages(browser: Browser, reg: RegisterSite) -> None:
    fail_two_reminders(reg)
    _sign_in(browser, reg, ADMIN)
    browser.driver.get(reg.served.base_url + "/funding")
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == "Funding"
    browser.check_page("funding")
    browser.driver.get(reg.served.base_url + "/deliveries")
    assert "no such user" in browser.driver.page_source
    browser.check_page("deliveries")
