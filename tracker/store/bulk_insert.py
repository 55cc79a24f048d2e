"""Many new rows of one table as one executemany straight on the database driver.

``tracker import`` writes hundreds of thousands of planned reminders. Through
SQLAlchemy's executemany each row's parameters are built and each value run through
its type's bind processor one by one, which costs more than the insert itself. Here
the statement is compiled once (:class:`~tracker.store.direct.Prepared`: the same
tables, types and bind processing as everywhere else), each processor runs once per
distinct value (the rows repeat the same few times, people and statuses), and the
driver (aiosqlite or asyncpg) gets the rows in one call, inside the session's
transaction (on PostgreSQL as a binary COPY). Driver errors come back as SQLAlchemy's
``IntegrityError`` or ``OperationalError``.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Dialect, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
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


def _processors(table: Table, names: Sequence[str], dialect: Dialect) -> list[Processor | None]:
    """Each column's bind processor as SQLAlchemy's own execute runs it: the dialect's
    implementation of the type (on SQLite a UTC column's value ends as the same text
    ``2025-06-04 11:00:00.000000`` an ORM insert writes)."""
    return [table.c[name].type._cached_bind_processor(dialect) for name in names]


#: A column's values in row order, and the distinct ones among them.
Column = tuple[list[Any], set[Any]]


def _columns(table: Table, rows: Sequence[Mapping[str, Any]]) -> dict[str, Column]:
    """Each column's values (``id`` left to the database), leaving out a column that is
    NULL in every row and has no server default (NULL either way): the planned
    reminders' six columns for later (claim, lease, reply...) need not be bound
    700,000 times."""
    columns = {}
    for column in table.columns:
        if column.name != "id":
            values = list(map(dict.get, rows, repeat(column.name)))  # type: ignore[arg-type]
            distinct = set(values)
            if column.server_default is not None or distinct != {None}:
                columns[column.name] = (values, distinct)
    return columns


def _arguments(
    names: Sequence[str], processors: Sequence[Processor | None], columns: dict[str, Column]
) -> list[tuple[Any, ...]]:
    """The driver's rows, built column by column: each distinct value of a column goes
    through its processor once (the rows repeat the same few people, statuses and
    times), and the rest is lookups and zips that run in C, not a Python call a value."""
    by_column = []
    for name, process in zip(names, processors, strict=True):
        column, distinct = columns[name]
        if process is not None or any(_str_subclass(value) for value in distinct):
            run = process or _same
            processed = {value: run(_plain(value)) for value in distinct}
            column = list(map(processed.__getitem__, column))
        by_column.append(column)
    return list(zip(*by_column, strict=True))


def _str_subclass(value: Any) -> bool:
    return isinstance(value, str) and type(value) is not str


def _plain(value: Any) -> Any:
    """A str enum (a status, a kind) as its text: the driver adapts a subclass of str
    the slow way, which cost the 700,000 planned reminders' inserts more than a second."""
    return str(value) if _str_subclass(value) else value


def _same(value: Any) -> Any:
    return value


async def insert_many(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (column -> value; a missing column is NULL; ``id`` is left to
    the database) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    columns = _columns(table, rows)
    values = {name: bindparam(name, type_=table.c[name].type, required=True) for name in columns}
    prepared = Prepared.compile(insert(table).values(values), connection.dialect)
    processors = _processors(table, prepared.names, connection.dialect)
    arguments = _arguments(prepared.names, processors, columns)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        if connection.dialect.name == "postgresql":
            # COPY: the rows streamed in the binary format, no statement per row.
            names = list(prepared.names)
            await driver.copy_records_to_table(table.name, records=arguments, columns=names)
        else:
            await driver.executemany(prepared.sql, arguments)
    except Exception as error:
        failure = IntegrityError if _breaks_a_constraint(error) else OperationalError
        raise failure(prepared.sql, None, error) from error


def _breaks_a_constraint(error: Exception) -> bool:
    """A driver's unique or foreign-key refusal (SQLite's IntegrityError, PostgreSQL's
    class 23 SQLSTATE), reported as SQLAlchemy's IntegrityError as any insert's is."""
    return isinstance(error, sqlite3.IntegrityError) or str(
        getattr(error, "sqlstate", "")
    ).startswith("23")


async def ids_by_key(
    session: AsyncSession, table: Table, key: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> dict[tuple[Any, ...], int]:
    """The ids the database gave rows just written by :func:`insert_many`, by their unique
    ``key`` columns: one indexed read of the rows whose first key column is among the
    batch's (INSERT ... RETURNING of each row through SQLAlchemy cost more than the
    insert; a driver's executemany returns nothing)."""
    first = sorted({row[key[0]] for row in rows})
    columns = [table.c[name] for name in key]
    statement = select(table.c.id, *columns).where(columns[0].in_(first))
    found = await session.execute(statement)
    return {tuple(found_row[1:]): found_row[0] for found_row in found}


#: SQLite's page cache for a bulk write, in KiB (its default is 2 MB): room for the
#: reminders' indexes at our size, so an insert finds its index pages in memory.
BULK_CACHE_KIB = 65_536


async def widen_cache(session: AsyncSession) -> None:
    """Give this session's SQLite connection a 64 MB page cache (a no-op on PostgreSQL,
    whose server has its own). The 10,000-contract import inserts 700,000 reminders
    into three indexes at random places; with the default 2 MB each insert rereads
    index pages from the file. The connection keeps the setting while pooled (memory is
    only taken as pages are read)."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
