"""Fixtures for the mail transports: real SMTP servers on 127.0.0.1, no mocks of aiosmtplib.

* ``smtp_server`` -- an aiosmtpd server that accepts everything, on a free port. Set
  ``smtp_server.behaviour`` to a function of :class:`Call` returning a reply (``"451 ..."``),
  ``smtp_server.DROP`` (close the connection without replying) or ``None`` (behave
  normally). ``.messages`` holds what arrived, ``.connections`` counts connections.
* ``start_smtp_server`` -- the same with aiosmtpd options (auth, STARTTLS) or implicit TLS.
* ``start_raw_server`` -- a bare TCP server running a script, for what aiosmtpd will not
  do (a ``421`` greeting, a server that never answers).
* ``closed_port`` -- a port nothing listens on (connection refused).
* ``tls_cert`` -- a self-signed certificate for 127.0.0.1 (``openssl req``).
* ``smtp_settings`` -- :class:`~tracker.settings.Settings` pointing at a server, unaffected
  by any ``TRACKER_*`` variables of the environment running the tests.

aiosmtpd's ``Controller`` runs in its own thread and, in 1.4, cannot use ``port=0`` (it
probes the configured port to see that the server is up). Serving aiosmtpd's ``SMTP``
protocol with ``loop.create_server(..., port=0)`` on the test's own loop gives a free
port without a race, lets the handler count connections, and needs no thread.
"""

from __future__ import annotations

import asyncio
import email.policy
import os
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session

from tracker.settings import Settings

#: A behaviour's answer meaning: drop the connection instead of replying.
DROP = "<drop>"


@dataclass
class Call:
    """One command the server is about to answer, as a behaviour sees it."""

    command: Literal["MAIL", "RCPT", "DATA"]
    address: str | None  # MAIL / RCPT: the address; DATA: None
    number: int  # how many times this command has been seen on this server, from 1


Behaviour = Callable[[Call], str | None]


@dataclass
class Received:
    """A message the server accepted: the parsed message and its envelope."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class SmtpServer:
    DROP: ClassVar[str] = DROP

    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    behaviour: Behaviour | None = None
    counts: dict[str, int] = field(default_factory=dict)
    protocols: list[SMTPProtocol] = field(default_factory=list)

    def close_connections(self) -> None:
        """Hang up on every client, as a server does with idle connections."""
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()

    def ask(self, command: Literal["MAIL", "RCPT", "DATA"], address: str | None) -> str | None:
        self.counts[command] = self.counts.get(command, 0) + 1
        if self.behaviour is None:
            return None
        return self.behaviour(Call(command, address, self.counts[command]))


class _Handler:
    """aiosmtpd hooks that consult the test's behaviour before doing the normal thing."""

    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_MAIL(
        self,
        server: SMTPProtocol,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        reply = self.state.ask("MAIL", address)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"
        return _answer(server, reply)

    async def handle_RCPT(
        self,
        server: SMTPProtocol,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.state.ask("RCPT", address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 OK"
        return _answer(server, reply)

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        reply = self.state.ask("DATA", None)
        if reply is not None:
            return _answer(server, reply)
        content = envelope.original_content or b""
        parsed = BytesParser(policy=email.policy.default).parsebytes(content)
        assert isinstance(parsed, EmailMessage)
        self.state.messages.append(
            Received(parsed, str(envelope.mail_from), [str(a) for a in envelope.rcpt_tos])
        )
        return f"250 2.0.0 OK queued as {len(self.state.messages)}"


def _answer(server: SMTPProtocol, reply: str) -> str:
    if reply == DROP:
        # abort() discards the reply aiosmtpd is about to write: the client sees EOF.
        transport = server.transport
        assert isinstance(transport, asyncio.Transport)
        transport.abort()
        return "250 OK (never sent)"
    return reply


StartSmtpServer = Callable[..., Awaitable[SmtpServer]]
StartRawServer = Callable[
    [Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]],
    Awaitable[tuple[str, int]],
]


@pytest.fixture
async def start_smtp_server() -> AsyncIterator[StartSmtpServer]:
    """Start aiosmtpd servers on free ports; ``tls=`` serves implicit TLS, kwargs go to SMTP."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    states: list[SmtpServer] = []

    async def start(*, tls: ssl.SSLContext | None = None, **smtp_kwargs: Any) -> SmtpServer:
        state = SmtpServer(host="127.0.0.1", port=0)
        states.append(state)
        handler = _Handler(state)

        def factory() -> SMTPProtocol:
            state.connections += 1
            protocol = SMTPProtocol(handler, hostname="smtp.test", loop=loop, **smtp_kwargs)
            state.protocols.append(protocol)
            return protocol

        server = await loop.create_server(factory, host="127.0.0.1", port=0, ssl=tls)
        servers.append(server)
        state.port = server.sockets[0].getsockname()[1]
        return state

    yield start
    for state in states:
        state.close_connections()
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def smtp_server(start_smtp_server: StartSmtpServer) -> SmtpServer:
    """A plain SMTP server (no TLS, no auth) that accepts everything unless told otherwise."""
    return await start_smtp_server()


@pytest.fixture
async def start_raw_server() -> AsyncIterator[StartRawServer]:
    """Start bare TCP servers; each connection runs ``script(reader, writer)``."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[Any]] = []

    async def start(
        script: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> tuple[str, int]:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            task = asyncio.current_task()
            assert task is not None
            tasks.append(task)
            try:
                await script(reader, writer)
            except (asyncio.CancelledError, ConnectionError):
                pass  # a cancelled connection task makes asyncio 3.11 log an error
            finally:
                writer.close()

        server = await asyncio.start_server(on_connect, host="127.0.0.1", port=0)
        servers.append(server)
        return "127.0.0.1", server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()
    for writer in writers:
        writer.close()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for server in servers:
        await server.wait_closed()


@pytest.fixture
def closed_port() -> int:
    """A port that was free a moment ago and has no listener (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class TlsCert:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    """A self-signed certificate valid for 127.0.0.1 and localhost."""
    directory = tmp_path_factory.mktemp("tls")
    cert = TlsCert(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(cert.keyfile),
            "-out",
            str(cert.certfile),
        ],
        check=True,
        capture_output=True,
    )
    return cert


MakeSettings = Callable[..., Settings]


@pytest.fixture
def smtp_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeSettings]:
    """Build Settings for a host/port; the environment's TRACKER_* variables do not leak in."""
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)

    def make(host: str = "127.0.0.1", port: int = 25, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_host": host,
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout": 5.0,
            "mail_from": "tracker@example.org",
        }
        values.update(overrides)
        return Settings(**values)

    yield make


# ------------------------------------------- a threaded SMTP server for CLI-driven sweeps
#
# ``smtp`` runs in its own thread (tests/mail/smtp_threaded.py), so the real ``tracker``
# CLI can talk to it both in-process (``tracker_cli``: ``main()`` runs ``asyncio.run``)
# and as subprocesses (``env.subprocess_env()``).


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A :class:`smtp_threaded.ThreadedSmtpServer` on 127.0.0.1 (free port), stopped after."""
    from smtp_threaded import ThreadedSmtpServer

    server = ThreadedSmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(smtp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A :class:`smtp_threaded.TrackerEnv`: TRACKER_SMTP_HOST/PORT point at ``smtp``
    (security none), a fresh SQLite file, HOME/XDG and the working directory under
    ``tmp_path``, and no other TRACKER_* variable of the outer environment."""
    from smtp_threaded import TrackerEnv

    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
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
def tracker_cli(env: Any, capsys: pytest.CaptureFixture[str]) -> Callable[..., Any]:
    """``tracker_cli("send", now="2025-09-04 09:00")`` runs ``tracker --db <env db> --now ...
    send`` in-process and returns a :class:`smtp_threaded.CliResult` (code -1 and the
    traceback in ``err`` if it raised)."""
    import traceback

    from smtp_threaded import CliResult

    from tracker.cli.main import main

    def run(*args: str, now: str | None = None) -> Any:
        argv = ["--db", env.db_url, *(["--now", now] if now else []), *args]
        capsys.readouterr()
        try:
            code = main(argv)
        except (Exception, SystemExit):
            captured = capsys.readouterr()
            return CliResult(-1, captured.out, captured.err + traceback.format_exc())
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
