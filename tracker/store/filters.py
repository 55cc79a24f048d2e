"""Filters on a list of values passed as one parameter, the same statement for any number.

``column IN (:v1, :v2, ...)`` is a different statement for every length (so a new plan
and cache entry each time) and runs into parameter limits, which callers then work
around by querying 500 values at a time: the number of statements grows with the data.
Here the list is one parameter: a PostgreSQL array, or a JSON array that SQLite reads
with ``json_each`` (built in since 3.38; the tracker needs 3.35 for RETURNING and
SQLite has shipped JSON1 in its default builds far longer).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine


def one_of(
    dialect: str,
    column: Any,
    values: Sequence[int] | Sequence[str],
    item: TypeEngine[Any],
) -> ColumnElement[bool]:
    """``column`` is one of ``values``, passed as a single parameter (a PostgreSQL array,
    a JSON array read with ``json_each`` on SQLite), so the statement is the same whatever
    their number: no parameter per value, no limit on how many."""
    if dialect == "postgresql":
        return cast(
            ColumnElement[bool],
            column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(item))),
        )
    listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued(
        "value"
    )
    return cast(ColumnElement[bool], column.in_(select(listed.c.value)))
