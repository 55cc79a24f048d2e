"""My decisions and the contract page in headless chromium: Mark done and Snooze from
the home page by keyboard alone (Tab to the control, type, Enter), axe-core with no
serious or critical violation on both pages, no sideways scrolling at 320 px, and
screenshots of both into docs/screenshots/.

Signed in with the session cookie a real sign-in leaves (tests/support/session.py), on
the Lancashire seed as of Monday 16 Sep 2024, 10:00 (tests/web/conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import Browser
from support.cli import LANCS
from support.people import LANCS_OWNER
from support.session import session_cookie
from support.web import SERVER_NOW, Site

from tracker.web.auth import SESSION_COOKIE

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

SNOOZE_UNTIL = "2024-09-27"


def _milestone(site: Site, kind: str) -> dict[str, Any]:
    shown = site.tracker("show", LANCS, "--json", now=SERVER_NOW)
    [found] = [m for m in json.loads(shown.out)["summary"]["milestones"] if m["kind"] == kind]
    return found


def _sign_in(browser: Browser, site: Site) -> None:
    browser.driver.get(f"{site.served.base_url}/healthz")
    browser.driver.add_cookie(
        {"name": SESSION_COOKIE, "value": session_cookie(LANCS_OWNER), "path": "/"}
    )
    browser.driver.get(f"{site.served.base_url}/")


def _tab_to(browser: Browser, element: WebElement, limit: int = 80) -> None:
    """Press Tab until ``element`` has the focus, as a keyboard user would."""
    driver = browser.driver
    driver.find_element(By.TAG_NAME, "body").click()
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.switch_to.active_element == element:
            return
    raise AssertionError(f"Tab never reached {element.get_attribute('outerHTML')}")


def _press_enter(browser: Browser, button: WebElement) -> None:
    _tab_to(browser, button)
    button.send_keys(Keys.ENTER)
    WebDriverWait(browser.driver, 15).until(
        expected_conditions.staleness_of(button), "the page after the POST"
    )


def _card(browser: Browser, kind_label: str) -> WebElement:
    [card] = [
        c
        for c in browser.driver.find_elements(By.CSS_SELECTOR, "li.card")
        if c.find_element(By.TAG_NAME, "h3").text.startswith(kind_label)
    ]
    return card


def test_done_and_snooze_from_the_home_page_by_keyboard(browser: Browser, site: Site) -> None:
    _sign_in(browser, site)
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == "My decisions"
    browser.check_page("my-decisions")

    done = _card(browser, "Publication").find_element(
        By.CSS_SELECTOR, "form[action$='/done'] button"
    )
    _press_enter(browser, done)
    banner = browser.driver.find_element(By.CSS_SELECTOR, ".banner").text
    assert "Marked done" in banner, banner
    assert _milestone(site, "publication")["status"] == "done"

    card = _card(browser, "Extension notice")
    until = card.find_element(By.CSS_SELECTOR, "input[type=date]")
    _tab_to(browser, until)
    browser.type_date(until, SNOOZE_UNTIL)
    assert until.get_attribute("value") == SNOOZE_UNTIL
    _press_enter(browser, card.find_element(By.CSS_SELECTOR, "form[action$='/snooze'] button"))
    banner = browser.driver.find_element(By.CSS_SELECTOR, ".banner").text
    assert "Snoozed until 27 Sep 2024" in banner, banner
    notice = _milestone(site, "extension_notice")
    assert (notice["status"], notice["snoozed_until"]) == ("open", SNOOZE_UNTIL)
    browser.check_page("my-decisions-after")


def test_the_contract_page_in_chromium(browser: Browser, site: Site) -> None:
    site.tracker("send", now="2024-09-16 09:00")  # so it lists reminders sent
    _sign_in(browser, site)
    link = browser.driver.find_element(By.CSS_SELECTOR, f"a[href='/contracts/{LANCS}']")
    _tab_to(browser, link)
    link.send_keys(Keys.ENTER)
    WebDriverWait(browser.driver, 15).until(expected_conditions.staleness_of(link))
    assert browser.driver.find_element(By.TAG_NAME, "h1").text.startswith(f"{LANCS}: Drive")
    browser.check_page("contract")
