"""A real browser for tests: Debian's headless chromium through its own chromedriver
(Selenium), full-page screenshots into ``docs/screenshots/``, and axe-core.

* ``browser`` fixture -- a :class:`Browser` around one Selenium ``WebDriver`` shared by
  the session (chromium takes a second or two to start), reset for each test: 1280 px
  wide, no cookies.
* :meth:`Browser.screenshot` -- the whole page (not just the viewport) as
  ``docs/screenshots/NAME.png``; the docs show what a user sees, so they are real
  screenshots of real pages.
* :meth:`Browser.axe` -- axe-core's violations of impact serious or critical (what
  WCAG 2.2 AA work must clear; minor and moderate findings are left to review).
* :meth:`Browser.tab_to` and :meth:`Browser.keys` -- reach and use a control by
  keyboard alone (WCAG 2.1.1).
* :meth:`Browser.overflow_px` -- how far the page is wider than its viewport (the
  320-px reflow check: WCAG 1.4.10 allows no horizontal scrolling at 320 CSS px).

Nothing is downloaded: the browser and driver paths are given explicitly, so Selenium
Manager is never asked for either, and axe-core 4.14.1 is vendored in
``tests/support/axe/`` (MPL-2.0, its licence beside it). Without chromium or the
driver the browser tests skip with the reason -- or fail when ``CI`` or
``TRACKER_REQUIRE_BROWSER`` is set, so CI cannot pass by running none of them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
AXE_JS = Path(__file__).resolve().parent / "axe" / "axe.min.js"

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no update or safe-browsing calls home
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--hide-scrollbars",  # screenshots without a scrollbar gutter
)
#: The desktop width every test starts at, and the narrowest WCAG 1.4.10 asks for.
WIDE, NARROW = 1280, 320
VIEWPORT_HEIGHT = 900
#: What the accessibility gate refuses; "minor" and "moderate" are reported by axe too.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
INSTALL_HINT = "apt-get install chromium chromium-driver (.ci/run does this in CI)"


def browser_required() -> bool:
    """CI (or a developer asking for it) must run the browser tests, not skip them."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or bool(os.environ.get("TRACKER_REQUIRE_BROWSER", "").strip())


def missing_parts() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]


def start_chromium() -> webdriver.Chrome:
    """Headless chromium at 1280 px, from the Debian paths only."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={WIDE},{VIEWPORT_HEIGHT}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)  # axe on a long page takes a few seconds on 2 cores
    return driver


def require_browser() -> None:
    """Skip the test when chromium or its driver is missing, saying which and how to get
    them; fail instead where the browser tests must run."""
    missing = missing_parts()
    if missing:
        reason = f"browser tests need {', '.join(missing)}: {INSTALL_HINT}"
        if browser_required():
            pytest.fail(f"{reason} (required: CI or TRACKER_REQUIRE_BROWSER is set)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_driver() -> Iterator[webdriver.Chrome]:
    require_browser()
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium_driver: webdriver.Chrome) -> Browser:
    """The session's chromium, 1280 px wide, with no cookies from an earlier test."""
    page = Browser(chromium_driver)
    page.set_width(WIDE)
    chromium_driver.delete_all_cookies()
    return page


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks, with where (CSS selectors of the failing nodes)."""

    rule: str
    impact: str
    help: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact}: {self.rule} ({self.help}) at {', '.join(self.nodes)}"


def violations_from(results: list[dict[str, Any]]) -> list[Violation]:
    """axe's violations of a blocking impact, in a form an assertion message can show."""
    return [
        Violation(
            rule=item["id"],
            impact=item["impact"],
            help=item["help"],
            nodes=tuple(" ".join(node["target"]) for node in item["nodes"]),
        )
        for item in results
        if item.get("impact") in BLOCKING_IMPACTS
    ]


_RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then((result) => done(result.violations))
  .catch((error) => done({error: String(error)}));
"""


_DATE_ORDER = """
return new Intl.DateTimeFormat().formatToParts(new Date(2024, 8, 30))
  .map((part) => part.type).filter((type) => type !== "literal");
"""

_OVERFLOWING = """
const limit = window.innerWidth;
return Array.from(document.body.querySelectorAll("*"))
  .filter((el) => el.getBoundingClientRect().right > limit + 0.5 || el.scrollWidth > el.clientWidth)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${el.textContent.trim().slice(0, 60)}`);
"""


class Browser:
    """What the tests do with a page beyond Selenium's own calls."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver

    def set_width(self, width: int) -> None:
        """Lay the page out at exactly ``width`` CSS px (the window size would include
        whatever frame headless chromium draws; the device metrics are the viewport)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )

    def width(self) -> int:
        value: int = self.driver.execute_script("return window.innerWidth")
        return value

    def overflow_px(self) -> int:
        """How many px the page is wider than the viewport (0: no horizontal scrolling)."""
        value: int = self.driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        return value

    def overflowing(self) -> list[str]:
        """The elements reaching past the viewport's right edge, or whose content (a long
        word) spills out of them: what to fix when :meth:`overflow_px` is not 0."""
        found: list[str] = self.driver.execute_script(_OVERFLOWING)
        return found

    def tab_to(self, element: WebElement, limit: int = 40) -> list[str]:
        """Press Tab from the top of the page until ``element`` has the focus, as a
        keyboard user would; returns what had the focus on the way (fails after
        ``limit`` presses: the element cannot be reached by keyboard)."""
        self.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        visited: list[str] = []
        for _ in range(limit):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            active = self.driver.switch_to.active_element
            visited.append(f"{active.tag_name}#{active.get_attribute('id') or ''}")
            if active == element:
                return visited
        raise AssertionError(f"not reached by {limit} presses of Tab: {visited}")

    def keys(self, *keys: str) -> None:
        """Type into whatever has the focus."""
        ActionChains(self.driver).send_keys(*keys).perform()

    def type_date(self, element: WebElement, iso_day: str) -> None:
        """Type a day into an ``<input type="date">`` as a user would: its fields come in
        the browser's locale order (Debian's chromium without chromium-l10n is en-US,
        month first), so the digits follow ``Intl``'s order of day, month and year."""
        order: list[str] = self.driver.execute_script(_DATE_ORDER)
        year, month, day = iso_day.split("-")
        digits = {"year": year, "month": month, "day": day}
        element.send_keys("".join(digits[part] for part in order))

    def screenshot(self, name: str, directory: Path = SCREENSHOTS) -> Path:
        """The whole page at the current width as ``directory/NAME.png``."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": self.width(), "height": size["height"], "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def screenshots(self, name: str, *, narrow: bool = False) -> list[Path]:
        """``NAME.png`` at 1280 px and, with ``narrow``, ``NAME-320.png`` at 320 px;
        the page is back at the width it had afterwards."""
        before = self.width()
        self.set_width(WIDE)
        paths = [self.screenshot(name)]
        if narrow:
            self.set_width(NARROW)
            paths.append(self.screenshot(f"{name}-{NARROW}"))
        self.set_width(before)
        return paths

    def axe(self) -> list[Violation]:
        """Run the vendored axe-core on the current page; serious and critical only.

        The script goes in through WebDriver (DevTools), which a page's
        Content-Security-Policy does not block, so the app's CSP needs no hole for it.
        """
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
        results = self.driver.execute_async_script(_RUN_AXE)
        if isinstance(results, dict):
            raise AssertionError(f"axe-core failed on {self.driver.current_url}: {results}")
        return violations_from(results)

    def heading(self) -> str:
        """The page's ``<h1>`` text."""
        text: str = self.driver.find_element(By.TAG_NAME, "h1").text
        return text

    def check_page(self, name: str) -> None:
        """The page as every browser test holds it: screenshots at 1280 and 320 px, axe
        clean at both widths, no sideways scrolling at 320 px (the width it leaves as it was)."""
        self.screenshots(name, narrow=True)
        assert self.axe() == [], f"{name}: axe-core violations at 1280 px"
        width = self.width()
        self.set_width(NARROW)
        try:
            assert self.axe() == [], f"{name}: axe-core violations at {NARROW} px"
            assert self.overflow_px() == 0, (
                f"{name} scrolls sideways at {NARROW} px: {self.overflowing()}"
            )
        finally:
            self.set_width(width)

    def open_html(self, html: str, tmp_path: Path, name: str) -> None:
        """Show an HTML document (an email's HTML part) from a file, as a mail client would."""
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        self.driver.get(path.as_uri())
