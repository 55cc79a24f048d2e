"""Fixtures of the reliability suite: the tracker attacked the way the real world will.

Helpers live in ``reliability_support.py`` and tests/support. Fixtures of this directory:

* ``raw_smtp`` -- a bare TCP server in a thread running a script (a ``421`` greeting,
  a server that never answers, a server that echoes the password);
* ``tls_smtp`` -- a STARTTLS server using ``tls_cert``'s self-signed certificate.

Shared with other directories (tests/support/fixtures.py): ``cli`` / ``db_path`` /
``seeded`` (the real CLI in-process on a fresh SQLite file; ``seeded``: both seed
contracts imported at ``--now 2024-09-02``), ``smtp`` / ``env`` / ``tracker_cli`` (the CLI
against the threaded SMTP server), ``closed_port`` and ``tls_cert``.

The terminal summary prints the suite's figures as one line (what each means:
``reliability_support``): ``reliability: inputs tried N, faults injected F (happened),
messages expected E, delivered D, lost 0, unexpected 0, duplicated on the wire W,
duplicated in the database 0`` -- W counts the resends a crash provokes on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reliability_support import FIGURES
from support.smtp import RawServer, Script, StartTlsSmtpServer, TlsCert


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES.used:
        return
    terminalreporter.write_sep("-", "reliability figures")
    terminalreporter.write_line(FIGURES.line())


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
def tls_smtp(tls_cert: TlsCert) -> Iterator[StartTlsSmtpServer]:
    """A server offering STARTTLS with the self-signed certificate."""
    with StartTlsSmtpServer(tls_cert.server_context()) as server:
        yield server
