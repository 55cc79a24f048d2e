"""The browser harness's own rules, without a browser: where chromium or its driver is
missing, the browser tests skip with the reason on a developer's machine and fail in CI
(so a CI run cannot pass by running none of them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import support.browser as harness
from selenium.common.exceptions import NoSuchDriverException


@pytest.fixture
def no_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    missing = tmp_path / "no-such-chromium"
    monkeypatch.setattr(harness, "CHROMIUM", missing)
    for name in ("CI", "TRACKER_REQUIRE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return missing


def test_missing_browser_skips_locally_with_the_reason(no_chromium: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match=str(no_chromium)) as skipped:
        harness.require_browser()
    assert "chromium-driver" in str(skipped.value)


@pytest.mark.parametrize(("name", "value"), [("CI", "true"), ("TRACKER_REQUIRE_BROWSER", "1")])
def test_missing_browser_fails_where_required(
    no_chromium: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception, match=f"{no_chromium}.*required"):
        harness.require_browser()


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_ci_false_does_not_require_the_browser(
    no_chromium: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        harness.require_browser()


def test_a_missing_driver_is_an_error_not_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver is named by path, so Selenium Manager is never asked to fetch one: a
    wrong path fails at once with that path."""
    missing = tmp_path / "no-such-chromedriver"
    monkeypatch.setattr(harness, "CHROMEDRIVER", missing)
    with pytest.raises(NoSuchDriverException) as refused:
        harness.start_chromium()
    assert str(missing) in str(refused.value.__cause__)


def test_axe_core_is_vendored_with_its_licence() -> None:
    assert harness.AXE_JS.read_text(encoding="utf-8").startswith("/*! axe v4.14.1")
    assert "Mozilla Public License" in (harness.AXE_JS.parent / "LICENSE").read_text()
