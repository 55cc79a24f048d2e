"""Lancashire's year three, the example the funding-line tests share: with the extension
taken, 2025/26 costs £298,403.22 and an expected Home Office line (F3, to be confirmed
by 31 Jan 2025) covers it; the letter arrives in January 2025."""

from __future__ import annotations

from typing import Any

from support.cli import LANCS, LANCS_SEED, NOW, Runner, as_json, ok, runner_on

#: A day in January 2025, after the letter: when the tests look.
JANUARY = "2025-01-14"
#: Year three's cost, and the expected line's amount.
YEAR3 = "298403.22"


def lancashire_extended(db_url: str) -> Runner:
    """The CLI on ``db_url`` holding Lancashire with its extension activated (year three
    in term)."""
    run = runner_on(db_url)
    ok(run("--now", NOW, "import", str(LANCS_SEED)))
    ok(run("--now", NOW, "extend", LANCS))
    return run


def add_expected_line(run: Runner) -> None:
    """``funding add`` of the expected Home Office line for 2025/26 (it becomes F3)."""
    added = ok(
        run(
            "--now",
            "2024-09-03",
            "funding",
            "add",
            LANCS,
            "--source",
            "Home Office grant",
            "--year",
            "2025/26",
            "--amount",
            YEAR3,
            "--confirm-by",
            "31/1/2025",
        )
    ).out
    assert "funding F3 Home Office grant 2025/26 £298,403.22 (expected)" in added


def year3(cli: Runner, now: str = JANUARY) -> dict[str, Any]:
    """2025/26 as ``gaps --json`` gives it (cost, secured, at risk, gap)."""
    years = as_json(cli("--now", now, "gaps", LANCS, "--json"))[0]["years"]
    found: dict[str, Any] = next(y for y in years if y["year"] == "2025/26")
    return found
