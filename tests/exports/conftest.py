"""Fixtures for the export tests: the real ``tracker`` CLI in-process, as in tests/cli.

The helpers (``Result``, ``dump``, the seed paths) are imported from tests/cli's
``cli_support`` so both suites drive the CLI one way; the fixtures are small copies of
tests/cli/conftest.py's, since pytest only shares fixtures down a directory tree.

* ``cli``     -- ``cli("calendar", "--out", "x.ics")`` runs ``tracker --db <fresh sqlite> ...``.
* ``seeded``  -- ``cli`` with both seeds imported with ``--now 2024-09-02``.
* ``db_path`` -- the SQLite file behind ``cli`` (for ``dump``).
"""

from __future__ import annotations

import io
import sqlite3
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from cli_support import LANCS_SEED, NOW, WM_SEED, Result, Runner, dump, isolate

from tracker.cli.main import main

__all__ = ["Result", "Runner", "dump"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def cli(
    tmp_path: Path,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runner:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setattr("tracker.store.engine.SQLITE_BUSY_TIMEOUT_MS", 1000)
    url = f"sqlite+aiosqlite:///{db_path}"

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(["--db", url, *args])
        except (Exception, SystemExit):
            captured = capsys.readouterr()
            return Result(code=-1, out=captured.out, err=captured.err + traceback.format_exc())
        captured = capsys.readouterr()
        return Result(code=code, out=captured.out, err=captured.err)

    return run


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both seeds imported once per session through the real CLI; copied per test."""
    base = tmp_path_factory.mktemp("exports-seeded")
    path = base / "t.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, base)
        for seed in (LANCS_SEED, WM_SEED):
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(
                    ["--db", f"sqlite+aiosqlite:///{path}", "--now", NOW, "import", str(seed)]
                )
            assert code == 0, (out.getvalue(), err.getvalue())
    return path


@pytest.fixture
def seeded(cli: Runner, seeded_template: Path, db_path: Path) -> Runner:
    source, target = sqlite3.connect(seeded_template), sqlite3.connect(db_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return cli
