"""Fixtures of the reliability suite: the tracker attacked the way the real world will.

Helpers live in ``reliability_support.py`` (which reuses ``tests/cli/cli_support.py`` and
``tests/mail/smtp_threaded.py``). Fixtures:

* ``cli`` / ``db_path`` / ``seeded`` -- the real CLI in-process on a fresh SQLite file
  (``seeded``: both seed contracts imported at ``--now 2024-09-02``);
* ``smtp`` / ``env`` / ``tracker_cli`` -- the CLI against the threaded SMTP server;
* ``raw_smtp`` -- a bare TCP server in a thread running a script (a ``421`` greeting,
  a server that never answers, a server that echoes the password);
* ``closed_port`` -- nothing listens there;
* ``tls_cert`` / ``tls_smtp`` -- a self-signed certificate and a STARTTLS server using it.

The terminal summary prints the suite's figures as one line:
``reliability: inputs tried N, faults injected F, messages expected E, delivered D,
duplicated 0, lost 0``.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    FIGURES,
    LANCS_SEED,
    NOW,
    WM_SEED,
    CliResult,
    RawServer,
    Runner,
    Script,
    StartTlsSmtpServer,
    ThreadedSmtpServer,
    TlsCert,
    TrackerEnv,
    copy_database,
    in_process,
)

# isort: split
from cli_support import isolate  # on sys.path once reliability_support is imported


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES.used:
        return
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(FIGURES.line())


# ---------------------------------------------------------------------- the CLI in-process


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def cli(isolated_env: Path, db_path: Path) -> Runner:
    """``cli("list", "--json")``: ``tracker --db <db_path> list --json`` in-process."""
    url = f"sqlite+aiosqlite:///{db_path}"

    def run(*args: str) -> Any:
        return in_process(["--db", url, *args])

    return run


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reliability-seeded")
    path = base / "t.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, base)
        for seed in (LANCS_SEED, WM_SEED):
            result = in_process(
                ["--db", f"sqlite+aiosqlite:///{path}", "--now", NOW, "import", str(seed)]
            )
            assert result.code == 0, result
    return path


@pytest.fixture
def seeded(cli: Runner, seeded_template: Path, db_path: Path) -> Runner:
    """``cli`` on a database holding both seed contracts (LANCS-DRIVE, PCC/D/2018/25)."""
    copy_database(seeded_template, db_path)
    return cli


# ------------------------------------------------------------------ SMTP and the CLI


@pytest.fixture
def smtp() -> Iterator[ThreadedSmtpServer]:
    server = ThreadedSmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(smtp: ThreadedSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrackerEnv:
    """The threaded server as TRACKER_SMTP_HOST/PORT (security none), a fresh SQLite file,
    HOME/XDG and the working directory under ``tmp_path``, no outer TRACKER_* variable."""
    isolate(monkeypatch, tmp_path)
    tracker_env = TrackerEnv(
        tmp=tmp_path, db_path=tmp_path / "tracker.db", smtp=smtp, monkeypatch=monkeypatch
    )
    tracker_env.set("TRACKER_SMTP_HOST", smtp.host)
    tracker_env.set("TRACKER_SMTP_PORT", str(smtp.port))
    tracker_env.set("TRACKER_SMTP_SECURITY", "none")
    tracker_env.set("TRACKER_SMTP_TIMEOUT", "5")
    tracker_env.set("TRACKER_MAIL_FROM", "tracker@opcc.example.org")
    tracker_env.set("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox-must-stay-empty"))
    return tracker_env


@pytest.fixture
def tracker_cli(env: TrackerEnv) -> Callable[..., CliResult]:
    """``tracker_cli("send", now="2025-06-23 09:00")`` in-process against ``env``."""

    def run(*args: str, now: str | None = None) -> CliResult:
        argv = ["--db", env.db_url, *(["--now", now] if now else []), *args]
        result = in_process(argv)
        return CliResult(result.code, result.out, result.err)

    return run


@pytest.fixture
def raw_smtp() -> Iterator[Callable[[Script], RawServer]]:
    """Start bare TCP servers running a script per connection; stopped after the test."""
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        server = RawServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    """A self-signed certificate valid for 127.0.0.1 (the same recipe as tests/mail)."""
    directory = tmp_path_factory.mktemp("reliability-tls")
    cert = TlsCert(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(cert.keyfile), "-out", str(cert.certfile),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert


@pytest.fixture
def tls_smtp(tls_cert: TlsCert) -> Iterator[StartTlsSmtpServer]:
    """A server offering STARTTLS with the self-signed certificate."""
    server = StartTlsSmtpServer(tls_cert.server_context()).start()
    try:
        yield server
    finally:
        server.stop()
