"""Fixtures for the mail transports: real SMTP servers on 127.0.0.1, no mocks of aiosmtplib.

* ``smtp_server`` -- an aiosmtpd server that accepts everything, on a free port. Set
  ``smtp_server.behaviour`` to a function of :class:`~support.smtp_loop.Call` returning a
  reply (``"451 ..."``), ``smtp_server.DROP`` (close the connection without replying) or
  ``None`` (behave normally). ``.messages`` holds what arrived, ``.connections`` counts
  connections.
* ``start_smtp_server`` -- the same with aiosmtpd options (auth, STARTTLS) or implicit TLS.
* ``start_raw_server`` -- a bare TCP server running a script, for what aiosmtpd will not
  do (a ``421`` greeting, a server that never answers).
* ``smtp_settings`` -- :class:`~tracker.settings.Settings` pointing at a server, unaffected
  by any ``TRACKER_*`` variables of the environment running the tests.

The servers (tests/support/smtp_loop.py) live on the test's own event loop. Shared with
other directories, from tests/support/fixtures.py: ``closed_port``, ``tls_cert``, and
``smtp`` / ``env`` / ``tracker_cli`` (the CLI against a threaded server).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP as SMTPProtocol
from support.smtp_loop import LoopHandler, LoopSmtpServer

from tracker.settings import Settings

StartSmtpServer = Callable[..., Awaitable[LoopSmtpServer]]
StartRawServer = Callable[
    [Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]],
    Awaitable[tuple[str, int]],
]


@pytest.fixture
async def start_smtp_server() -> AsyncIterator[StartSmtpServer]:
    """Start aiosmtpd servers on free ports; ``tls=`` serves implicit TLS, kwargs go to SMTP."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    states: list[LoopSmtpServer] = []

    async def start(*, tls: ssl.SSLContext | None = None, **smtp_kwargs: Any) -> LoopSmtpServer:
        state = LoopSmtpServer(host="127.0.0.1", port=0)
        states.append(state)
        handler = LoopHandler(state)

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
async def smtp_server(start_smtp_server: StartSmtpServer) -> LoopSmtpServer:
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
