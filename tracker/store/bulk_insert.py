"""Many new rows of one table as one executemany straight on the database driver.

``tracker import`` writes hundreds of thousands of planned reminders. Through
SQLAlchemy's executemany each row's parameters are built and each value run through
its type's bind processor one by one, which costs more than the insert itself. Here
the statement is compiled once (:class:`~tracker.store.direct.Prepared`: the same
tables, types and bind processing as everywhere else), each processor remembers its
results (the rows repeat the same few times, people and statuses), and the
driver (aiosqlite or asyncpg) gets the rows in one call, inside the session's
transaction. Driver errors come back as SQLAlchemy's ``OperationalError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, Table, bindparam, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.store.direct import Prepared

Processor = Callable[[Any], Any]


class PlainRow:
    """A new row as a plain object, made by the same builders as an ORM row (they take
    a :data:`~tracker.store.rows.Build`): its columns as attributes, each column not
    given at its scalar default as a flush would give it (e.g. a contract's version 1),
    else None, and any list a builder hangs on it (watchers, milestones...).

    The rules that derive milestones and plan reminders read and set attributes; on an
    ORM row each access runs the instrumentation, which cost the 10,000-contract import
    more than its SQL. These rows never enter a session: :func:`insert_many` writes them.
    """

    def __init__(self, model: type[Any], values: Mapping[str, Any]) -> None:
        table: Table = model.__table__
        self.__dict__.update(column_defaults(table))
        self.__dict__.update(values)
        self.__table__ = table

    def values(self) -> dict[str, Any]:
        """The row's column values (``id`` left to the database)."""
        state = self.__dict__
        return {name: state[name] for name in column_defaults(self.__table__) if name != "id"}


@functools.cache
def column_defaults(table: Table) -> dict[str, Any]:
    """Each column's scalar default (None when it has none or a callable one)."""
    return {column.name: _scalar_default(column) for column in table.columns}


def _scalar_default(column: Any) -> Any:
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


def _remembered(process: Processor | None) -> Processor | None:
    """The processor with a memory (every value an insert carries is hashable)."""
    return None if process is None else functools.lru_cache(maxsize=65_536)(process)


def _processors(table: Table, names: Sequence[str], dialect: Dialect) -> list[Processor | None]:
    """Each column's bind processor as SQLAlchemy's own execute runs it: the dialect's
    implementation of the type (on SQLite a UTC column's value ends as the same text
    ``2025-06-04 11:00:00.000000`` an ORM insert writes)."""
    return [table.c[name].type._cached_bind_processor(dialect) for name in names]


def _arguments(
    names: Sequence[str], processors: Sequence[Processor | None], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The driver's rows: column by column, each through its (remembered) processor."""
    by_column = []
    for name, process in zip(names, processors, strict=True):
        column = [row.get(name) for row in rows]
        remembered = _remembered(process)
        by_column.append(column if remembered is None else list(map(remembered, column)))
    return list(zip(*by_column, strict=True))


async def insert_many(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (column -> value; a missing column is NULL; ``id`` is left to
    the database) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    columns = [column for column in table.columns if column.name != "id"]
    values = {c.name: bindparam(c.name, type_=c.type, required=True) for c in columns}
    prepared = Prepared.compile(insert(table).values(values), connection.dialect)
    processors = _processors(table, prepared.names, connection.dialect)
    arguments = _arguments(prepared.names, processors, rows)
    raw = await connection.get_raw_connection()
    try:
        await raw.driver_connection.executemany(prepared.sql, arguments)  # type: ignore[union-attr]
    except Exception as error:
        raise OperationalError(prepared.sql, None, error) from error
