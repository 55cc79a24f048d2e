"""``tracker --help`` and ``--version`` stay quick: they import neither SQLAlchemy, Jinja2
nor aiosmtplib (every command imports what it needs inside its own function).

Proved with ``python -X importtime``, which lists every module a process imports;
bench/run.py (benchmark 6) shows the same list beside its start-up timings.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "jinja2", "aiosmtplib")

RUN_CLI = (
    "import sys; sys.argv = ['tracker', *sys.argv[1:]]\nfrom tracker.cli.main import run\nrun()"
)


def imported(*args: str) -> tuple[set[str], str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN_CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return modules, result.stdout


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_heavy_library(flag: str) -> None:
    modules, out = imported(flag)
    assert "tracker.cli.main" in modules  # the listing is real
    assert out.strip()  # and the command did its job
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"tracker {flag} imports {heavy}"


def test_a_real_command_does_import_them() -> None:
    """The check can fail: ``send --help`` of a command is still lazy, but opening the
    database (``tracker --db ... list``) pulls SQLAlchemy in."""
    modules, _ = imported("--db", "sqlite+aiosqlite:///:memory:", "list")
    assert any(m.split(".")[0] == "sqlalchemy" for m in modules)
