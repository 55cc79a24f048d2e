"""The schema on both backends: Alembic upgrades, the revision check, models vs migrations,
indexes, exact money and UTC timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from tracker.errors import SchemaOutdated
from tracker.store.engine import create_engine, session_factory
from tracker.store.models import Base, ContractRow, CostRow, EventRow, FundingRow
from tracker.store.schema import (
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)

ALL_TABLES = set(Base.metadata.tables) | {"alembic_version"}


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_tables)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


# -- upgrade and ensure_current ------------------------------------------------------------


async def test_upgrade_from_empty_creates_every_table_and_ends_at_head(
    engine: AsyncEngine,
) -> None:
    assert await tables(engine) == set()
    assert await current_revision(engine) is None

    before, after = await upgrade(engine)

    assert before is None
    assert after == head_revision()
    assert await current_revision(engine) == head_revision()
    assert await tables(engine) == ALL_TABLES


async def test_second_upgrade_is_a_no_op(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(
            ContractRow.__table__.insert().values(
                ref="KEEP/1",
                title="t",
                provider="p",
                start_date=date(2024, 4, 1),
                end_date=date(2025, 3, 31),
                original_end=date(2025, 3, 31),
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                updated_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        )

    before, after = await upgrade(engine)

    assert before == after == head_revision()
    assert await tables(engine) == ALL_TABLES
    async with engine.connect() as conn:
        assert (await conn.execute(select(ContractRow.ref))).scalars().all() == ["KEEP/1"]
        assert await conn.run_sync(_diff) == []


async def test_ensure_current_creates_the_schema_in_an_empty_database(
    engine: AsyncEngine,
) -> None:
    await ensure_current(engine)

    assert await current_revision(engine) == head_revision()
    assert await tables(engine) == ALL_TABLES
    await ensure_current(engine)  # at head: nothing to do, no error


async def test_ensure_current_refuses_an_older_revision_and_init_upgrades_it(
    engine: AsyncEngine,
) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    assert len(revisions) >= 2, "needs a revision older than head"
    older = revisions[1].revision  # walk_revisions goes from head down
    await upgrade(engine)
    await downgrade(engine, older)
    assert await current_revision(engine) == older

    with pytest.raises(SchemaOutdated) as raised:
        await ensure_current(engine)

    message = str(raised.value)
    assert "tracker init" in message
    assert older in message
    assert head_revision() in message
    # Nothing was changed by the refusal; `tracker init` (upgrade) then brings it to head.
    assert await current_revision(engine) == older
    assert await upgrade(engine) == (older, head_revision())
    await ensure_current(engine)


async def test_ensure_current_refuses_tables_the_tracker_did_not_make(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine)
    await downgrade(engine, "base")
    assert await current_revision(engine) is None
    assert await tables(engine) <= {"alembic_version"}
    foreign = Table("someone_elses", MetaData(), Column("id", Integer, primary_key=True))
    async with engine.begin() as conn:
        await conn.run_sync(foreign.create)

    with pytest.raises(SchemaOutdated) as raised:
        await ensure_current(engine)

    assert "tracker init" in str(raised.value)
    assert "someone_elses" in await tables(engine)
    assert "contracts" not in await tables(engine)


# -- models and migrations agree -----------------------------------------------------------


async def test_models_match_migrations_at_head(engine: AsyncEngine) -> None:
    """The ``alembic check`` equivalent: autogenerate finds nothing to migrate."""
    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_model_comparison_sees_drift(engine: AsyncEngine) -> None:
    """The comparison above is not vacuous: one revision back, it reports what is missing."""
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    await upgrade(engine)
    await downgrade(engine, revisions[1].revision)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    # Whatever the newest revision changed now shows up as drift.
    assert diff != []


def _indexes(conn: Connection, table: str) -> dict[str, list[str]]:
    return {
        str(ix["name"]): [str(c) for c in ix["column_names"]]
        for ix in inspect(conn).get_indexes(table)
    }


async def test_milestone_indexes_exist(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as conn:
        indexes = await conn.run_sync(_indexes, "milestones")
    assert indexes["ix_milestones_status_due"] == ["status", "due"]
    assert indexes["ix_milestones_due"] == ["due"]


async def test_the_calendar_counts_changes_by_an_indexed_milestone_id(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as conn:
        indexes = await conn.run_sync(_indexes, "contract_events")
        (uid,) = (await conn.execute(text("SELECT uid FROM installation"))).scalars().all()
    assert indexes["ix_contract_events_milestone_id"] == ["milestone_id"]
    assert len(uid) == 32 and int(uid, 16) >= 0


# -- column types --------------------------------------------------------------------------

AMOUNTS = [Decimal("999999999999.99"), Decimal("0.01"), Decimal("298403.22")]


async def test_money_round_trips_exactly_through_the_orm(engine: AsyncEngine) -> None:
    await upgrade(engine)
    sessions = session_factory(engine)
    created = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    async with sessions() as session:
        for index, amount in enumerate(AMOUNTS):
            row = ContractRow(
                ref=f"MONEY/{index}",
                title="t",
                provider="p",
                start_date=date(2024, 4, 1),
                end_date=date(2025, 3, 31),
                original_end=date(2025, 3, 31),
                value=amount,
                created_at=created,
                updated_at=created,
            )
            row.funding = [
                FundingRow(key="1", source="s", year=2024, amount=amount, status="confirmed")
            ]
            row.costs = [CostRow(year=2024, category="c", amount=amount)]
            session.add(row)
        await session.commit()

    async with sessions() as session:
        rows = (await session.execute(select(ContractRow).order_by(ContractRow.ref))).scalars()
        for amount, row in zip(AMOUNTS, rows, strict=True):
            for stored in (row.value, row.funding[0].amount, row.costs[0].amount):
                assert isinstance(stored, Decimal)
                assert stored == amount
                assert str(stored) == str(amount)
        total = (await session.execute(select(CostRow.amount))).scalars().all()
        assert sum(total, Decimal("0")) == Decimal("1000000298403.22")


async def test_timestamps_come_back_aware_utc(engine: AsyncEngine) -> None:
    await upgrade(engine)
    sessions = session_factory(engine)
    bst = timezone(timedelta(hours=1), "BST")
    written = datetime(2024, 6, 3, 10, 30, 15, 123456, tzinfo=bst)  # 09:30:15 UTC
    async with sessions() as session:
        row = ContractRow(
            ref="TIME/1",
            title="t",
            provider="p",
            start_date=date(2024, 4, 1),
            end_date=date(2025, 3, 31),
            original_end=date(2025, 3, 31),
            created_at=written,
            updated_at=datetime(2024, 12, 1, 12, 0, tzinfo=UTC),
        )
        session.add(row)
        await session.flush()
        session.add(EventRow(contract_id=row.id, at=written, kind="k", detail="d"))
        await session.commit()

    async with sessions() as session:
        row = (await session.execute(select(ContractRow))).scalar_one()
        event = (await session.execute(select(EventRow))).scalar_one()
        for value in (row.created_at, row.updated_at, event.at):
            assert value.tzinfo is not None
            assert value.utcoffset() == timedelta(0)
        assert row.created_at == written
        assert row.created_at.replace(tzinfo=None) == datetime(2024, 6, 3, 9, 30, 15, 123456)
        assert event.at == written
        assert row.updated_at == datetime(2024, 12, 1, 12, 0, tzinfo=UTC)
        # Ordering and comparison happen on the UTC instant, not on local wall time.
        later = (
            await session.execute(select(ContractRow.ref).where(ContractRow.created_at > written))
        ).all()
        assert later == []


async def test_naive_timestamp_is_refused(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with session_factory(engine)() as session:
        session.add(
            ContractRow(
                ref="NAIVE/1",
                title="t",
                provider="p",
                start_date=date(2024, 4, 1),
                end_date=date(2025, 3, 31),
                original_end=date(2025, 3, 31),
                created_at=datetime(2024, 6, 3, 9, 0),
                updated_at=datetime(2024, 6, 3, 9, 0),
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT COUNT(*) FROM contracts"))).scalar_one() == 0
