"""Fixtures used by several test directories, registered once (``pytest_plugins`` in the
root conftest) instead of a copy per conftest.

The real CLI in-process (tests/cli, tests/exports, tests/reliability):

* ``cli``       -- ``cli("list", "--json")`` runs ``tracker --db <fresh sqlite> list --json``
  and returns a :class:`~support.cli.Result` (code, out, err).
* ``db_path``   -- the SQLite file behind ``cli`` (for :func:`~support.cli.dump`).
* ``seeded``    -- ``cli`` with both seed contracts imported (``PCC/D/2018/25``, ``LANCS-DRIVE``).
* ``lancs_yaml`` / ``wm_yaml`` -- copies of the seed YAML files in ``tmp_path``.

The environment is isolated: no ``TRACKER_*`` variables, HOME and XDG dirs under
``tmp_path``, the working directory is ``tmp_path`` (no ``./tracker.toml``), 200 columns.

The CLI against a real SMTP server (tests/mail, tests/reliability, tests/production):

* ``smtp``        -- a :class:`~support.smtp.ThreadedSmtpServer` on 127.0.0.1.
* ``env``         -- a :class:`~support.cli.TrackerEnv` pointing the CLI at ``smtp``.
* ``tracker_cli`` -- ``tracker_cli("send", now="2025-09-04 09:00")`` in-process in ``env``.
* ``closed_port`` -- a port nothing listens on; ``tls_cert`` -- a self-signed certificate.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.cli import (
    LANCS_SEED,
    NOW,
    WM_SEED,
    Result,
    Runner,
    TrackerEnv,
    copy_database,
    import_seeds,
    in_process,
    isolate,
    runner_on,
    sqlite_db_url,
)
from support.people import MAIL_FROM
from support.smtp import ThreadedSmtpServer, TlsCert, free_port, make_tls_cert

# ---------------------------------------------------------------------- the CLI in-process


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
    return sqlite_db_url(db_path)


@pytest.fixture
def cli(isolated_env: Path, cli_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Runner:
    # Commands here run one after another, so a SQLite lock can only be held by the
    # command itself (a self-deadlock, i.e. a bug): report it after 1 s, not 10 s.
    monkeypatch.setattr("tracker.store.engine.SQLITE_BUSY_TIMEOUT_MS", 1000)

    return runner_on(cli_db_url)


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
        import_seeds(path)
    return path


@pytest.fixture
def seeded(cli: Runner, seeded_template: Path, db_path: Path) -> Runner:
    """``cli`` on a database holding both seed contracts (imported with ``--now 2024-09-02``)."""
    copy_database(seeded_template, db_path)
    return cli


@pytest.fixture
def seeded_by_import(cli: Runner, lancs_yaml: Path, wm_yaml: Path) -> Runner:
    """Like ``seeded`` but imported afresh in this test (no template copy)."""
    for path in (lancs_yaml, wm_yaml):
        result = cli("--now", NOW, "import", str(path))
        assert result.code == 0, result
    return cli


# ------------------------------------------------------------------ SMTP and the CLI


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    """A threaded SMTP server on 127.0.0.1 (free port), stopped after the test."""
    with ThreadedSmtpServer() as server:
        yield server


@pytest.fixture
def env(smtp: ThreadedSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrackerEnv:
    """The threaded server as TRACKER_SMTP_HOST/PORT (security none), a fresh SQLite file,
    HOME/XDG and the working directory under ``tmp_path``, no outer TRACKER_* variable."""
    isolate(monkeypatch, tmp_path)
    tracker_env = TrackerEnv(
        tmp=tmp_path, db_path=tmp_path / "tracker.db", smtp=smtp, monkeypatch=monkeypatch
    )
    settings = {
        "TRACKER_SMTP_HOST": smtp.host,
        "TRACKER_SMTP_PORT": str(smtp.port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_SMTP_TIMEOUT": "5",
        "TRACKER_MAIL_FROM": MAIL_FROM,
        "TRACKER_OUTBOX_DIR": str(tmp_path / "outbox-must-stay-empty"),
    }
    for name, value in settings.items():
        tracker_env.set(name, value)
    return tracker_env


@pytest.fixture
def tracker_cli(env: TrackerEnv) -> Callable[..., Result]:
    """``tracker_cli("send", now="2025-09-04 09:00")`` runs ``tracker --db <env db> --now
    ... send`` in-process (code -1 and the traceback in ``err`` if it raised)."""

    def run(*args: str, now: str | None = None) -> Result:
        return in_process(["--db", env.db_url, *(["--now", now] if now else []), *args])

    return run


@pytest.fixture
def closed_port() -> int:
    """A port that was free a moment ago and has no listener (connection refused)."""
    return free_port()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    """A self-signed certificate valid for 127.0.0.1 and localhost."""
    return make_tls_cert(tmp_path_factory.mktemp("tls"))
