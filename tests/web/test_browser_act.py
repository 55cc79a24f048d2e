"""Acting from the email in a real browser (issue 16's "Done when").

A real ``tracker send`` delivers the Lancashire reminders to aiosmtpd; a real
``tracker serve`` runs in a subprocess; headless chromium opens the captured
reminder's "Mark done" (at 1280 px, by keyboard alone) and "Snooze" (at 320 px) links,
fills in the form, presses the button and reads the result page. ``tracker show --json`` then shows the
milestone done with the note typed, or snoozed to the day typed. Each confirm and
result page passes axe-core (no serious or critical violation), does not scroll sideways
at 320 px, and is screenshotted into docs/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import NARROW, Browser
from support.cli import LANCS
from support.people import LANCS_OWNER
from support.web import SERVER_NOW, Site, links

#: The browser runs against the demo's kind of database, SQLite (tests/web/test_serve.py
#: covers both backends over HTTP); ``site`` (tests/web/conftest.py) serves the
#: Lancashire seed as of Monday 16 Sep 2024, 10:00.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

#: The reminders go out at 09:00 that Monday, two weeks before the extension notice is
#: due (30 Sep); the owner acts on the web an hour later.
SENT_AT = "2024-09-16 09:00"
KIND = "extension_notice"
DONE_NOTE = "Decision 21/2024: option activated, contract runs to 31 Mar 2026"
SNOOZE_NOTE = "Waiting for the Home Office grant letter"
SNOOZE_UNTIL = "2024-09-30"


@dataclass
class Scene:
    """The served site and the links of the owner's extension-notice reminder."""

    site: Site
    links: dict[str, str]

    def milestone(self) -> dict[str, Any]:
        """The extension notice as ``tracker show --json`` reports it now."""
        shown = self.site.tracker("show", LANCS, "--json", now=SERVER_NOW)
        found: list[dict[str, Any]] = [
            m for m in json.loads(shown.out)["summary"]["milestones"] if m["kind"] == KIND
        ]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def scene(site: Site) -> Scene:
    site.tracker("send", now=SENT_AT)
    [reminder] = [
        m
        for m in site.smtp.messages
        if m.rcpt_tos == (LANCS_OWNER,) and "Extension notice" in m.subject
    ]
    return Scene(site=site, links=links(reminder.message))


def _by_keyboard(browser: Browser) -> Callable[[WebElement], None]:
    def press(button: WebElement) -> None:
        browser.tab_to(button)
        browser.keys(Keys.ENTER)

    return press


def _submit(browser: Browser, press: Callable[[WebElement], None] | None = None) -> None:
    """Press the form's one submit button (a click, or ``press``) and wait for the page
    the POST answers with."""
    [button] = browser.driver.find_elements(By.CSS_SELECTOR, "form[method=post] button")
    assert button.get_attribute("type") == "submit"
    if press is None:
        button.click()
    else:
        press(button)
    WebDriverWait(browser.driver, 15).until(
        expected_conditions.staleness_of(button), "the result page after the POST"
    )


def test_mark_done_from_the_reminder_in_chromium(browser: Browser, scene: Scene) -> None:
    assert scene.milestone()["status"] == "open"
    browser.driver.get(scene.links["Mark done"])
    assert browser.heading() == "Mark this decision done"
    browser.check_page("confirm-done")
    assert scene.milestone()["status"] == "open", "opening the link changed the milestone"

    # By keyboard alone: Tab to the note, type, Tab to the button, Enter.
    note = browser.driver.find_element(By.ID, "note")
    browser.tab_to(note)
    browser.keys(DONE_NOTE)
    _submit(browser, press=_by_keyboard(browser))

    assert browser.heading().startswith("Marked done"), browser.heading()
    browser.check_page("result-done")
    milestone = scene.milestone()
    assert milestone["status"] == "done"
    assert milestone["closed_note"] == DONE_NOTE


def test_snooze_from_the_reminder_in_chromium_at_320_px(browser: Browser, scene: Scene) -> None:
    """The whole snooze is done at 320 px: a phone-sized window can use the form."""
    browser.driver.get(scene.links["Snooze"])
    assert browser.heading() == "Snooze the reminders about this decision"
    browser.check_page("confirm-snooze")

    browser.set_width(NARROW)
    until = browser.driver.find_element(By.ID, "until")
    assert until.get_attribute("value") == "2024-09-23"  # a week ahead by default
    browser.type_date(until, SNOOZE_UNTIL)
    assert until.get_attribute("value") == SNOOZE_UNTIL
    browser.driver.find_element(By.ID, "note").send_keys(SNOOZE_NOTE)
    _submit(browser)

    assert browser.heading().startswith("Snoozed"), browser.heading()
    browser.check_page("result-snooze")
    milestone = scene.milestone()
    assert milestone["status"] == "open"
    assert (milestone["snoozed_until"], milestone["snooze_note"]) == (SNOOZE_UNTIL, SNOOZE_NOTE)
