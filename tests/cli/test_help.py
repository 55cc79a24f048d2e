"""Every command and group has ``--help`` with at least one copyable ``Example: tracker ...``.

The command paths are read from the live Typer/Click tree, so a new command added
without an example fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer
from support.cli import Runner

from tracker.cli.main import app

#: "Example:" then (possibly on the next line, as Rich/Click may wrap) a tracker command.
EXAMPLE = re.compile(r"Example:\s+tracker(\s+\S+)+")


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(command: object, prefix: tuple[str, ...]) -> None:
        commands = getattr(command, "commands", None) or {}
        for name, sub in sorted(commands.items()):
            if getattr(sub, "hidden", False):
                continue
            path = (*prefix, name)
            paths.append(path)
            walk(sub, path)

    walk(root, ())
    return paths


PATHS = _command_paths()


def test_the_tree_holds_the_documented_commands() -> None:
    """A sanity check on the walk itself: it must see nested groups."""
    found = {" ".join(p) for p in PATHS}
    for expected in (
        "init",
        "add",
        "import",
        "list",
        "show",
        "extend",
        "gaps",
        "timeline",
        "milestone",
        "milestone add",
        "milestone done",
        "milestone cancel",
        "funding",
        "funding add",
        "cost",
        "cost add",
        "demo",
    ):
        assert expected in found, sorted(found)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "tracker")
def test_help_exits_0_and_shows_an_example(cli: Runner, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.code == 0, result
    assert result.err == ""
    assert "Traceback" not in result.out
    assert EXAMPLE.search(result.out), f"no 'Example: tracker ...' in:\n{result.out}"


@pytest.mark.parametrize("path", [p for p in PATHS if p], ids=lambda p: " ".join(p))
def test_short_help_option_works_too(cli: Runner, path: tuple[str, ...]) -> None:
    result = cli(*path, "-h")
    assert result.code == 0, result
    assert EXAMPLE.search(result.out)


def test_console_entry_runs_in_a_subprocess(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``python -m tracker --help`` runs the real console entry (no in-process shortcuts)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tracker", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert EXAMPLE.search(completed.stdout)
    for name in ("add", "import", "list", "show", "extend", "gaps", "timeline", "milestone"):
        assert name in completed.stdout


def test_console_entry_reports_a_usage_error_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200"}
    completed = subprocess.run(
        [sys.executable, "-m", "tracker", "no-such-command"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("Error: ")
    assert len(completed.stderr.splitlines()) == 1
    assert "no-such-command" in completed.stderr
