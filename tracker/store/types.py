"""Column types that keep the product's rules at the SQL boundary: Decimal money, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator

#: Money is Numeric(14, 2) on every backend. On SQLite the value is held with NUMERIC
#: affinity (15 significant digits); amounts are capped below 10**12 by the parser, so at
#: most 14 digits are stored and SQLAlchemy's 2-place Decimal conversion is exact.
Money = Numeric(14, 2, asdecimal=True)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns aware UTC datetimes.

    SQLite keeps no zone, so without this a value read back would be naive and compare
    wrongly with ``now``; PostgreSQL returns aware values already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]
