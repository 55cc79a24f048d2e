"""Fixtures for storage tests: an opened App on each backend, and ways to look inside it.

* ``app``          -- an App on ``db_url`` (sqlite and postgresql), schema created, ``now`` = NOW.
* ``app_at``       -- factory: ``await app_at(now)`` opens another App on the same database.
* ``snapshot``     -- ``await snapshot(app)``: every row of every table, to prove nothing was written.
* ``milestones``   -- ``await milestones(app, ref)``: the contract's stored milestone rows, fresh.
* ``events``       -- ``await events(app, ref)``: the contract's change-log rows, oldest first.
* ``contract``     -- ``contract(**overrides)``: a ContractInput parsed from ``BASE_CONTRACT``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tracker.service.app import App, make_app, opened
from tracker.service.registers.inputs import ContractInput, parse_contract
from tracker.store.models import Base, ContractRow, EventRow, MilestoneRow

#: Monday 3 June 2024, 09:00 UTC: before every derived date of ``BASE_CONTRACT``.
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)

#: A contract exercising every derivation rule. Derived at NOW (policy defaults):
#:   contract_start  start        2024-04-01
#:   contract_end    end          2026-03-31
#:   extension_notice option:1    2025-12-31  (31 Mar 2026 less 90 days, a Wednesday)
#:   last_referral   end          2025-09-30  (31 Mar 2026 less 6 months, a Tuesday)
#:   funding_confirmation year:2025/26  2025-01-31  (1 Apr 2025 less 60 days; gap £500)
#: 2024/25 is fully covered by confirmed funding; 2026/27 (extension year) has no cost lines
#: (cost unknown, not a gap); no continuation_decision while the option is available.
BASE_CONTRACT: dict[str, Any] = {
    "ref": "TEST/2024/1",
    "title": "Perpetrator programme",
    "provider": "Provider Ltd",
    "start": "2024-04-01",
    "end": "2026-03-31",
    "owner": "owner@example.org",
    "sponsor": "cfo@example.org",
    "intervention_months": 6,
    "extensions": [{"until": "2027-03-31", "notice_days": 90}],
    "funding": [{"source": "Grant", "year": "2024/25", "amount": "1000", "status": "confirmed"}],
    "costs": [
        {"year": "2024/25", "amount": "1000", "category": "Staff"},
        {"year": "2025/26", "amount": "500", "category": "Staff"},
    ],
}


@pytest.fixture
def contract() -> Callable[..., ContractInput]:
    def build(**overrides: Any) -> ContractInput:
        raw = {**BASE_CONTRACT, **overrides}
        return parse_contract({k: v for k, v in raw.items() if v is not None})

    return build


@pytest.fixture
async def app_at(db_url: str) -> AsyncIterator[Callable[[datetime], Awaitable[App]]]:
    async with AsyncExitStack() as stack:

        async def open_app(now: datetime) -> App:
            return await stack.enter_async_context(opened(make_app(db=db_url, now=now)))

        yield open_app


@pytest.fixture
async def app(app_at: Callable[[datetime], Awaitable[App]]) -> App:
    return await app_at(NOW)


async def _snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = (await conn.execute(table.select().order_by(*order))).all()
            tables[table.name] = [tuple(row) for row in rows]
    return tables


@pytest.fixture
def snapshot() -> Callable[[App], Awaitable[dict[str, list[tuple[Any, ...]]]]]:
    return _snapshot


async def _milestones(app: App, ref: str) -> list[MilestoneRow]:
    async with app.session() as session:
        statement = (
            select(MilestoneRow)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .where(ContractRow.ref == ref)
            .order_by(MilestoneRow.id)
        )
        return list((await session.execute(statement)).scalars())


@pytest.fixture
def milestones() -> Callable[[App, str], Awaitable[list[MilestoneRow]]]:
    return _milestones


async def _events(app: App, ref: str) -> list[EventRow]:
    async with app.session() as session:
        statement = (
            select(EventRow)
            .join(ContractRow, ContractRow.id == EventRow.contract_id)
            .where(ContractRow.ref == ref)
            .order_by(EventRow.id)
        )
        return list((await session.execute(statement)).scalars())


@pytest.fixture
def events() -> Callable[[App, str], Awaitable[list[EventRow]]]:
    return _events
