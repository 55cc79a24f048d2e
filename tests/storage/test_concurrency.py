"""Several writers on one database: no lost update, and SQLite writers queue on the lock."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import tracker.service.contracts as contracts_module
import tracker.store.engine as engine_module
from tracker.service.app import App, make_app, opened
from tracker.service.contracts import add_contracts, add_funding
from tracker.service.registers.inputs import ContractInput, parse_funding
from tracker.service.views.contracts import contract_detail
from tracker.store.engine import SQLITE_BUSY_TIMEOUT_MS
from tracker.store.models import ContractRow, EventRow, FundingRow

REF = "TEST/2024/1"
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)

AppAt = Callable[[datetime], Awaitable[App]]
Build = Callable[..., ContractInput]


def funding(source: str, amount: str) -> Any:
    return parse_funding(
        {"source": source, "year": "2025/26", "amount": amount, "status": "pledged"}, "funding"
    )


async def funding_lines(app: App) -> list[tuple[str, str, Decimal]]:
    async with app.session() as session:
        rows = (await session.execute(select(FundingRow).order_by(FundingRow.id))).scalars()
        return [(f.key, f.source, f.amount) for f in rows]


async def funding_events(app: App) -> list[str]:
    async with app.session() as session:
        statement = select(EventRow.detail).where(EventRow.kind == "funding_added")
        return sorted((await session.execute(statement)).scalars())


async def test_two_concurrent_add_funding_calls_both_land(
    app: App, app_at: AppAt, contract: Build
) -> None:
    other = await app_at(app.now)
    await add_contracts(app, [contract()])

    await asyncio.gather(
        add_funding(app, REF, funding("Partner A", "100")),
        add_funding(other, REF, funding("Partner B", "200")),
    )

    lines = await funding_lines(app)
    assert [key for key, _, _ in lines] == ["1", "2", "3"]
    assert sorted((source, amount) for _, source, amount in lines[1:]) == [
        ("Partner A", Decimal("100.00")),
        ("Partner B", Decimal("200.00")),
    ]
    assert len(await funding_events(app)) == 2


async def test_overlapping_add_funding_calls_are_serialised_without_lost_update(
    app: App, app_at: AppAt, contract: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call holds the contract while it re-derives (widened here by a pause): the second
    must wait for the first to commit and then see its line, never overwrite it."""
    other = await app_at(app.now)
    await add_contracts(app, [contract()])
    loads: list[float] = []
    sections: list[tuple[float, float]] = []
    real_load, real_refresh = contracts_module.load_contract, contracts_module.refresh

    async def timed_load(session: Any, ref: str, *, for_update: bool = False) -> ContractRow:
        loads.append(time.monotonic())
        return await real_load(session, ref, for_update=for_update)

    async def slow_refresh(session: Any, row: ContractRow, app_: App) -> None:
        start = time.monotonic()
        await asyncio.sleep(0.3)
        await real_refresh(session, row, app_)
        sections.append((start, time.monotonic()))

    monkeypatch.setattr(contracts_module, "load_contract", timed_load)
    monkeypatch.setattr(contracts_module, "refresh", slow_refresh)

    await asyncio.gather(
        add_funding(app, REF, funding("Partner A", "100")),
        add_funding(other, REF, funding("Partner B", "200")),
    )

    first, second = sorted(sections)
    assert max(loads) < first[1], "the two calls did not overlap"
    assert second[0] >= first[1], "the second call changed the contract while the first held it"
    lines = await funding_lines(app)
    assert [key for key, _, _ in lines] == ["1", "2", "3"]
    assert {source for _, source, _ in lines[1:]} == {"Partner A", "Partner B"}
    assert len(await funding_events(app)) == 2


LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO contract_events (contract_id, at, kind, detail) "
             "SELECT id, '2024-06-03 09:00:00.000000', 'external', 'other process' FROM contracts")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("released", flush=True)
"""


async def test_sqlite_writer_waits_for_another_process_holding_the_write_lock(
    sqlite_url: str, contract: Build
) -> None:
    async with opened(make_app(db=sqlite_url, now=NOW)) as app:
        await add_contracts(app, [contract()])
        await _wait_for_other_process(app, sqlite_url)


@asynccontextmanager
async def write_lock_held(sqlite_url: str, hold: float) -> AsyncIterator[None]:
    """Another process (LOCK_HOLDER) holds the database's write lock for ``hold`` seconds
    from when the block starts; the block ends after it has let go."""
    path = make_url(sqlite_url).database
    assert path is not None
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCK_HOLDER, path, str(hold), stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
        yield
    finally:
        rest, _ = await holder.communicate()
    assert holder.returncode == 0
    assert rest == b"released\n"


async def _wait_for_other_process(app: App, sqlite_url: str) -> None:
    hold = 1.0
    async with write_lock_held(sqlite_url, hold):
        started = time.monotonic()
        await add_funding(app, REF, funding("Partner A", "100"))
        waited = time.monotonic() - started
    # It queued behind the other process (not "database is locked" at once) and got in
    # well within the busy timeout.
    assert hold * 0.5 <= waited < SQLITE_BUSY_TIMEOUT_MS / 1000
    assert [source for _, source, _ in await funding_lines(app)] == ["Grant", "Partner A"]
    async with app.session() as session:
        kinds = (await session.execute(select(EventRow.kind).order_by(EventRow.id))).scalars()
        assert list(kinds) == ["contract_added", "external", "funding_added"]


async def test_showing_a_contract_does_not_lock_itself_out(
    db_url: str,
    app_at: AppAt,
    contract: Build,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """``contract_detail`` (``tracker show``) must read a contract on both backends.

    A self-deadlock never resolves however long SQLite waits, so the busy timeout is cut to
    1 s here only to keep the failure quick.
    """
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 1000)
    app = await app_at(NOW)
    await add_contracts(app, [contract()])

    detail = await contract_detail(app, REF)

    assert detail.summary.ref == REF
    gap = next(g for g in detail.summary.gaps if str(g.year) == "2025/26")
    assert gap.gap == Decimal("500.00")
    assert [line.label for line in detail.funding] == ["Grant"]


async def test_a_read_only_app_reads_beside_a_held_write_lock_without_queueing(
    sqlite_url: str, contract: Build
) -> None:
    """A web GET (``App.read_only``) begins DEFERRED on SQLite: while another process holds
    the write lock for 3 s it reads at once; an ordinary App's transaction (BEGIN
    IMMEDIATE) queues behind the lock. 50 browsers would otherwise read one at a time."""
    async with opened(make_app(db=sqlite_url, now=NOW)) as app:
        await add_contracts(app, [contract()])

    async def read(read_only: bool) -> tuple[float, list[str]]:
        async with opened(make_app(db=sqlite_url, now=NOW), check_schema=False) as reader:
            reader.read_only = read_only
            started = time.monotonic()
            async with reader.session() as session:
                refs = list((await session.execute(select(ContractRow.ref))).scalars())
            return time.monotonic() - started, refs

    async with write_lock_held(sqlite_url, 3.0):
        quick, refs = await read(read_only=True)
        queued, _ = await read(read_only=False)
    assert refs == [REF]
    assert quick < 1.0, f"the read-only reader waited {quick:.2f} s for the write lock"
    assert queued >= 1.0, f"the ordinary reader did not queue ({queued:.2f} s)"
