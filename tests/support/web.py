"""A real ``tracker serve`` in a subprocess on 127.0.0.1, the links in captured emails,
and a dump of every table to show that something changed nothing.

Shared by the web tests and the browser tests (tests/support/browser.py builds on
:class:`Served`): start one with :func:`start_serve`, stop it with ``served.stop()``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from support.cli import Result
from support.processes import run_in_thread, tracker_argv, wait_until
from support.smtp import ThreadedSmtpServer, free_port

#: A signing key for tests (32 characters; never a real one).
SECRET = "test-secret-key-0123456789abcdefghij"

#: The web tests' seed is imported on the day of decision 20/2024; the web app runs on
#: 16 Sep 2024, the Monday its publication is overdue and its extension notice 14 days off.
IMPORTED = "2024-09-02"
SERVER_NOW = "2024-09-16 10:00"

#: The link lines of a text part: ``Mark done: URL``, ``Snooze: URL``, ``Digest settings: URL``.
_LINK_LINE = re.compile(r"(Mark done|Snooze|Digest settings):\s+(\S+)")
_HREF = re.compile(r'<a[^>]*href="([^"]+)"[^>]*>\s*(Mark done|Snooze|Digest settings)\s*</a>')


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Site:
    """A database with a real ``tracker serve`` on it, the SMTP server its emails go to,
    and ``tracker(...)`` to run the CLI on the same database and settings."""

    url: str  # the database
    served: Served
    smtp: ThreadedSmtpServer
    tracker: Callable[..., Result]


def web_env(env: Mapping[str, str], port: int) -> dict[str, str]:
    """``env`` with the base URL of a server on ``port`` and the test signing key."""
    return {
        **env,
        "TRACKER_BASE_URL": f"http://127.0.0.1:{port}",
        "TRACKER_SECRET_KEY": SECRET,
    }


def start_serve(
    url: str, env: Mapping[str, str], cwd: Path, *, port: int, now: str, workers: int = 1
) -> Served:
    """``tracker --db url --now now serve --port port [--workers N]``, waited for until
    /healthz is 200."""
    log = cwd / f"serve-{port}.log"
    handle = log.open("w", encoding="utf-8")
    more = ("--workers", str(workers)) if workers != 1 else ()
    process = subprocess.Popen(
        tracker_argv(url, "serve", "--port", str(port), *more, now=now),
        env=dict(env),
        cwd=cwd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process=process, base_url=f"http://127.0.0.1:{port}", log=log, env=dict(env))

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"tracker serve exited {process.returncode}:\n{served.log_text()}")
        try:
            return httpx.get(f"{served.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, 60, "tracker serve to answer /healthz")
    except BaseException:
        served.stop()
        raise
    return served


def serve_port() -> int:
    return free_port()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def links(message: EmailMessage) -> dict[str, str]:
    """``{"Mark done": url, ...}`` from the text part; the HTML part must offer the same."""
    in_text = {label: url for label, url in _LINK_LINE.findall(text_part(message))}
    in_html = {label: url.replace("&amp;", "&") for url, label in _HREF.findall(html_part(message))}
    assert in_text == in_html, (in_text, in_html)
    return in_text


def dump_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (alembic_version included), sorted: equal dumps mean the
    database was not changed."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: inspect(c).get_table_names())
                tables = {}
                for name in sorted(names):
                    rows = (await conn.execute(text(f'SELECT * FROM "{name}"'))).all()
                    tables[name] = sorted((tuple(r) for r in rows), key=repr)
                return tables
        finally:
            await engine.dispose()

    return run_in_thread(read(), name="dump-tables")


def run_sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(statement))).all()]
        finally:
            await engine.dispose()

    return run_in_thread(go(), name="run-sql")
