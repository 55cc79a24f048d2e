"""Smoke test for the ``db_url`` fixture: both backends accept an async engine and keep
money columns exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, Table, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

AMOUNT = Decimal("298403.22")

metadata = MetaData()
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Numeric(14, 2), nullable=False),
)


# SQLite has no native DECIMAL; SQLAlchemy warns and rounds the stored float back to a
# Decimal at the column's scale, which is exactly what this test checks.
@pytest.mark.filterwarnings("ignore:Dialect sqlite\\+aiosqlite does \\*not\\* support Decimal")
async def test_numeric_round_trip_and_select_1(db_url: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(payments).values(id=1, amount=AMOUNT))

        async with engine.connect() as conn:
            value = (await conn.execute(select(payments.c.amount))).scalar_one()
            assert isinstance(value, Decimal)
            assert value == AMOUNT
            assert str(value) == "298403.22"
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
