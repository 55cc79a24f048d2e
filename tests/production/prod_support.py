"""Helpers and constants shared by the production tests (imported by conftest.py and
the test modules; a uniquely named module, since tests/ has no packages)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from loop_thread import run_in_thread
from sqlalchemy.engine import make_url

_T = TypeVar("_T")

OWNER = "olivia@opcc.example.org"
SPONSOR = "steve@opcc.example.org"
MAIL_FROM = "tracker@opcc.example.org"
#: Import time, and the sweep time at which 2,000 messages are due: every lead from 90 to
#: 7 days of decisions due Monday 10 March 2025 has passed, collapsing into the 7-day
#: lead, which (7 <= escalation lead 14) goes to owner and sponsor.
IMPORTED_AT = "2024-12-01 10:00"
T = "2025-03-03 09:00"
DUE_ON = date(2025, 3, 10)
#: Decision kinds with the default policy (leads 90..1, sponsor copied from 14 days).
KINDS = ("procurement", "review", "custom", "grant_agreement")
#: 125 contracts x 8 decisions (each kind twice) x owner and sponsor. (Fewer contracts
#: with more decisions each: the same 2,000 messages, a quarter of the import time.)
CONTRACTS = 125
PER_KIND = 2
DUE_COUNT = CONTRACTS * len(KINDS) * PER_KIND * 2
assert DUE_COUNT == 2000


# ----------------------------------------------------------------------- helpers


def run_async(coro: Coroutine[Any, Any, _T]) -> _T:
    return run_in_thread(coro, "production-sql")


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _fetch(url: str, query: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=30)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


def sql(url: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one statement on the PostgreSQL database at ``url``."""
    return run_async(_fetch(url, query, args))


def server_url(url: str, database: str = "postgres") -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(url).database
    assert name
    return name


def contracts_yaml(
    path: Path, count: int, due: date, *, per_kind: int = PER_KIND, prefix: str = "PROD"
) -> Path:
    """``count`` contracts (olivia owns, steve sponsors), each with ``per_kind`` manual
    decisions of every kind in :data:`KINDS`, all due on ``due``."""
    lines = ["contracts:"]
    for n in range(count):
        lines += [
            f"  - ref: {prefix}/{n:04d}",
            f"    title: Victim services lot {n}",
            "    provider: Safer Futures CIC",
            "    start: 2024-04-01",
            "    end: 2030-03-31",
            "    value: 120000",
            f"    owner: {OWNER}",
            f"    sponsor: {SPONSOR}",
            "    milestones:",
            *(
                f"      - {{kind: {kind}, due: {due.isoformat()}, title: {kind} {i} of lot {n}}}"
                for kind in KINDS
                for i in range(1, per_kind + 1)
            ),
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def __repr__(self) -> str:
        return f"CliResult(code={self.code!r},\n  out={self.out[-3000:]!r},\n  err={self.err[-3000:]!r})"


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """os.environ without TRACKER_* (nor a config file), HOME under the test, plus
    ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        COLUMNS="200",
        TRACKER_MAIL_FROM=MAIL_FROM,
        TRACKER_OUTBOX_DIR=str(home / "outbox-must-stay-empty"),
    )
    env.update(settings)
    return env


def tracker_argv(url: str, *args: str, now: str | None = None) -> list[str]:
    return [sys.executable, "-m", "tracker", "--db", url, *(["--now", now] if now else []), *args]


def run_tracker(
    url: str,
    *args: str,
    env: Mapping[str, str],
    cwd: Path,
    now: str | None = None,
    timeout: float = 180,
) -> CliResult:
    done = subprocess.run(
        tracker_argv(url, *args, now=now),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def pg_server() -> str | None:
    raw = os.environ.get("TRACKER_TEST_PG_URL", "").strip()
    if not raw:
        return None  # the pg_url fixture fails (TRACKER_REQUIRE_PG=1) or skips
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


def clone_database(server: str, name: str, template: str) -> None:
    """CREATE DATABASE ... TEMPLATE, retrying while the template's last session ends."""
    deadline = time.monotonic() + 30
    while True:
        try:
            sql(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except Exception as exc:  # "source database is being accessed by other users"
            if "being accessed" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
