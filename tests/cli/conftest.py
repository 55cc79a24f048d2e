"""Fixtures for driving the real ``tracker`` CLI in-process.

* ``cli``       -- ``cli("list", "--json")`` runs ``tracker --db <fresh sqlite> list --json``
  through :func:`tracker.cli.main.main` and returns a :class:`Result` (code, out, err).
* ``db_path``   -- the SQLite file behind ``cli`` (for :func:`dump`).
* ``seeded``    -- ``cli`` with both seed contracts imported (``PCC/D/2018/25``, ``LANCS-DRIVE``).
* ``lancs_yaml`` / ``wm_yaml`` -- copies of the seed YAML files in ``tmp_path``.

The environment is isolated: no ``TRACKER_*`` variables, HOME and XDG dirs under
``tmp_path``, the working directory is ``tmp_path`` (no ``./tracker.toml``), 200 columns.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from cli_support import LANCS_SEED, NOW, WM_SEED, Result, Runner, dump, isolate

from tracker.cli.main import main

__all__ = ["Result", "Runner", "dump"]


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def cli_db_url(db_path: Path) -> str:
    """The URL of ``db_path`` (one fresh SQLite file per test)."""
    return f"sqlite+aiosqlite:///{db_path}"


@pytest.fixture
def cli(
    isolated_env: Path,
    cli_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runner:
    # Commands here run one after another, so a SQLite lock can only be held by the
    # command itself (a self-deadlock, i.e. a bug): report it after 1 s, not 10 s.
    monkeypatch.setattr("tracker.store.engine.SQLITE_BUSY_TIMEOUT_MS", 1000)

    def run(*args: str) -> Result:
        capsys.readouterr()  # drop anything printed before this command
        try:
            code = main(["--db", cli_db_url, *args])
        except (Exception, SystemExit):
            # What the console entry would print: a traceback (tests assert there is none).
            captured = capsys.readouterr()
            return Result(code=-1, out=captured.out, err=captured.err + traceback.format_exc())
        captured = capsys.readouterr()
        return Result(code=code, out=captured.out, err=captured.err)

    return run


@pytest.fixture
def lancs_yaml(tmp_path: Path) -> Path:
    return Path(shutil.copy(LANCS_SEED, tmp_path / LANCS_SEED.name))


@pytest.fixture
def wm_yaml(tmp_path: Path) -> Path:
    return Path(shutil.copy(WM_SEED, tmp_path / WM_SEED.name))


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both seeds imported once per session through the real CLI; copied per test."""
    base = tmp_path_factory.mktemp("seeded-template")
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


def _copy_database(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def seeded(cli: Runner, seeded_template: Path, db_path: Path) -> Runner:
    """``cli`` on a database holding both seed contracts (imported with ``--now 2024-09-02``)."""
    _copy_database(seeded_template, db_path)
    return cli


@pytest.fixture
def seeded_by_import(cli: Runner, lancs_yaml: Path, wm_yaml: Path) -> Runner:
    """Like ``seeded`` but imported afresh in this test (no template copy)."""
    for path in (lancs_yaml, wm_yaml):
        result = cli("--now", NOW, "import", str(path))
        assert result.code == 0, result
    return cli
