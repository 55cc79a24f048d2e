"""The digest's data for a batch of people comes in a fixed number of SQL statements,
whatever the number of people and contracts in it (no query per person or contract).

Counted with a ``before_cursor_execute`` listener on the engine, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tracker.service.app import App
from tracker.service.contracts import add_contracts
from tracker.service.digest import Batch, all_recipients, load_batch
from tracker.service.inputs import ContractInput

Build = Callable[..., ContractInput]

#: "A few", whatever the size: contracts, their six child collections, the change log,
#: the failed deliveries and the last digests.
MAX_STATEMENTS = 15


def _person(n: int) -> str:
    return f"person{n:02d}@example.org"


def _contracts(contract: Build, prefix: str, count: int, people: int) -> list[ContractInput]:
    """``count`` contracts; contract ``i`` is owned, sponsored and watched by three of the
    ``people`` in turn, and has costs, funding, an extension option and a manual milestone."""
    return [
        contract(
            ref=f"{prefix}/{i:03d}",
            owner=_person(i % people),
            sponsor=_person((i + 1) % people),
            watchers=[_person((i + 2) % people), _person((i + 3) % people)],
            milestones=[{"kind": "review", "due": "2024-07-01", "title": f"Review {i}"}],
        )
        for i in range(count)
    ]


@contextmanager
def _statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split())[:120])

    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _load(app: App) -> tuple[list[str], Batch, list[str]]:
    async with app.session() as session:
        people = await all_recipients(session)
        with _statements(app) as seen:
            batch = await load_batch(session, app, people)
    return people, batch, seen


async def test_load_batch_runs_a_constant_number_of_statements(app: App, contract: Build) -> None:
    await add_contracts(app, _contracts(contract, "SMALL", 10, 5))
    people, small, small_statements = await _load(app)
    assert len(people) == 5
    assert len(small.contracts) == 10
    # Each of 10 contracts has an owner, a sponsor and two watchers among 5 people: 8 each.
    assert sorted(len(ids) for ids in small.people_contracts.values()) == [8] * 5

    await add_contracts(app, _contracts(contract, "LARGE", 70, 40))
    people, large, large_statements = await _load(app)
    assert len(people) == 40
    assert len(large.contracts) == 80
    assert sum(len(ids) for ids in large.people_contracts.values()) == 80 * 4
    assert all(len(s.milestones) >= 2 for s in large.summaries.values())

    assert len(small_statements) == len(large_statements), (small_statements, large_statements)
    assert 0 < len(large_statements) <= MAX_STATEMENTS, large_statements
