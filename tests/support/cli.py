"""The real ``tracker`` CLI in-process, in an environment of the test's own.

One way to run a command (:func:`in_process`), one result type (:class:`Result`, also
what :mod:`support.processes` returns for subprocesses), one isolation recipe
(:func:`isolate`), one seeded database (:func:`import_seeds`).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import traceback
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tracker.cli.main import main

if TYPE_CHECKING:
    from support.smtp import ThreadedSmtpServer

SEEDS = Path(__file__).resolve().parents[2] / "config" / "seeds"
LANCS_SEED = SEEDS / "lancashire-drive-2024.yaml"
WM_SEED = SEEDS / "west-mercia-drive-2018.yaml"
LANCS = "LANCS-DRIVE"
WM = "PCC/D/2018/25"
#: The Lancashire record's own date: the decision to extend was taken on 2 Sep 2024.
NOW = "2024-09-02"
#: How much of a long output a failed assertion shows (the end is where errors are).
_SHOWN = 3000


@dataclass(frozen=True)
class Result:
    """What one ``tracker`` command did: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def __repr__(self) -> str:  # readable assertion failures
        out, err = self.out[-_SHOWN:], self.err[-_SHOWN:]
        return f"Result(code={self.code!r},\n  out={out!r},\n  err={err!r})"


Runner = Callable[..., Result]


def in_process(argv: list[str]) -> Result:
    """``tracker *argv`` in this process; a raised exception is code -1 with its traceback
    (what the console entry would print: tests assert there is none)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except (Exception, SystemExit):
            err.write(traceback.format_exc())
            code = -1
    return Result(code=code, out=out.getvalue(), err=err.getvalue())


def runner_on(db_url: str) -> Runner:
    """``tracker --db db_url *args`` in this process, as a test's ``run("list")``."""

    def run(*args: str) -> Result:
        return in_process(["--db", db_url, *args])

    return run


def ok(result: Result) -> Result:
    """Exit 0, nothing on stderr, no traceback anywhere: the command did what it says."""
    assert result.code == 0, result
    assert result.err == "", result
    assert "Traceback" not in result.out, result
    return result


def error_line(result: Result) -> str:
    """Exit 1, one ``Error: `` line on stderr (no CR), nothing on stdout, no traceback:
    the product's rule for bad input. Returns the line without its newline."""
    assert result.code == 1, result
    assert "Traceback" not in result.err + result.out, result
    assert result.out.strip() == "", result
    assert result.err.startswith("Error: "), result
    assert result.err.endswith("\n") and result.err.count("\n") == 1, result
    assert "\r" not in result.err, result
    return result.err.rstrip("\n")


def as_json(result: Result) -> Any:
    """A successful ``--json`` command's output, parsed."""
    return json.loads(ok(result).out)


def sqlite_db_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def dump(db_path: Path) -> str:
    """The whole database as SQL text (to show a failed command changed nothing)."""
    connection = sqlite3.connect(db_path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database file through the backup API (safe while it is open)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRACKER_* settings, a private home and data dir, the test's folder as cwd."""
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def import_seeds(path: Path) -> None:
    """Both seed contracts imported into the SQLite file ``path`` at ``--now NOW``."""
    for seed in (LANCS_SEED, WM_SEED):
        result = in_process(["--db", sqlite_db_url(path), "--now", NOW, "import", str(seed)])
        assert result.code == 0, result


@dataclass
class TrackerEnv:
    """The environment a test's ``tracker`` runs in: a SQLite file, the threaded SMTP
    server (security none) and nothing from the outer environment.

    ``set``/``unset`` change a variable for in-process runs (through monkeypatch) and
    for :meth:`subprocess_env` alike.
    """

    tmp: Path
    db_path: Path
    smtp: ThreadedSmtpServer
    monkeypatch: pytest.MonkeyPatch
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return sqlite_db_url(self.db_path)

    def set(self, name: str, value: str) -> None:
        self.variables[name] = value
        self.monkeypatch.setenv(name, value)

    def unset(self, name: str) -> None:
        self.variables.pop(name, None)
        self.monkeypatch.delenv(name, raising=False)

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """os.environ as the test sees it (TRACKER_* isolated), plus ``extra``."""
        return {**os.environ, **extra}
