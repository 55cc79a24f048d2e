"""The digest's data for a batch of people comes in a fixed number of SQL statements,
whatever the number of people in it and of contracts they touch: no query per person or
contract, and none per 500 contracts (which SQLAlchemy's selectin loading of the
contracts' collections used to add, so a batch of 200 people over 10,000 contracts ran
52 statements where one over 1,000 ran 20).

Counted with a ``before_cursor_execute`` listener on the engine, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from support.statements import short, statements_run

from tracker.service.app import App
from tracker.service.contracts import add_contracts
from tracker.service.digest.gather import (
    STATEMENTS,
    Batch,
    FactsCache,
    all_recipients,
    compose,
    load_batch,
)
from tracker.service.registers.inputs import ContractInput
from tracker.store.models import (
    ContractPolicyRow,
    ContractRow,
    CostRow,
    DecisionRow,
    EventRow,
    ExtensionRow,
    FundingRow,
    MilestoneRow,
    ReminderRow,
    WatcherRow,
)
from tracker.store.outbox import OutboxStatus

Build = Callable[..., ContractInput]

#: The collections of a contract, copied along with it by :func:`_copies`.
CHILDREN = (
    WatcherRow, ExtensionRow, FundingRow, CostRow, MilestoneRow, DecisionRow, EventRow,
    ContractPolicyRow,
)  # fmt: skip


def _person(n: int, prefix: str = "person") -> str:
    return f"{prefix}{n:02d}@example.org"


def _contracts(
    contract: Build, prefix: str, count: int, people: int, who: str = "person"
) -> list[ContractInput]:
    """``count`` contracts; contract ``i`` is owned, sponsored and watched by three of the
    ``people`` in turn, and has costs, funding, an extension option, a manual milestone
    and a published decision."""
    return [
        contract(
            ref=f"{prefix}/{i:03d}",
            owner=_person(i % people, who),
            sponsor=_person((i + 1) % people, who),
            watchers=[_person((i + 2) % people, who), _person((i + 3) % people, who)],
            milestones=[{"kind": "review", "due": "2024-07-01", "title": f"Review {i}"}],
            decisions=[
                {"id": f"{i}/2024", "date": "2024-05-01", "url": f"https://example.org/d/{i}"}
            ],
        )
        for i in range(count)
    ]


async def _copies(app: App, prefix: str, copies: int) -> None:
    """``copies`` more copies of each contract whose ref starts with ``prefix``, with all
    their collections (not their reminders), inserted directly: 1,000 contracts through
    the service would take a minute per backend."""
    async with app.session() as session:
        originals = (
            (await session.execute(select(ContractRow).where(ContractRow.ref.like(f"{prefix}/%"))))
            .scalars()
            .all()
        )
        columns = [c.key for c in ContractRow.__table__.columns if c.key != "id"]
        for n in range(1, copies + 1):
            values = [
                {**{k: getattr(row, k) for k in columns}, "ref": f"{row.ref}/copy{n}"}
                for row in originals
            ]
            new_ids = (
                await session.execute(
                    insert(ContractRow).returning(ContractRow.id, sort_by_parameter_order=True),
                    values,
                )
            ).scalars()
            copy_of = dict(zip([row.id for row in originals], new_ids, strict=True))
            for model in CHILDREN:
                table = model.__table__
                keys = [c.key for c in table.columns if c.key not in ("id", "contract_id")]
                rows = (
                    await session.execute(
                        select(table).where(table.c.contract_id.in_(list(copy_of)))
                    )
                ).all()
                if rows:
                    await session.execute(
                        insert(table),
                        [
                            {
                                **{k: getattr(r, k) for k in keys},
                                "contract_id": copy_of[r.contract_id],
                            }
                            for r in rows
                        ],
                    )
        await session.commit()


async def _fail_some(app: App, prefix: str, count: int) -> None:
    """Mark ``count`` reminders about the ``prefix`` contracts as failed just now."""
    async with app.session() as session:
        chosen = (
            select(ReminderRow.id)
            .join(ContractRow, ContractRow.id == ReminderRow.contract_id)
            .where(ContractRow.ref.like(f"{prefix}/%"))
            .order_by(ReminderRow.id)
            .limit(count)
        )
        ids = list((await session.execute(chosen)).scalars())
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.id.in_(ids))
            .values(
                status=OutboxStatus.FAILED,
                updated_at=app.now - timedelta(hours=1),
                last_reply="550 no such user",
            )
        )
        await session.commit()


async def _load(
    app: App, people: Sequence[str] | None = None, cache: FactsCache | None = None
) -> tuple[list[str], Batch, list[str]]:
    async with app.session() as session:
        everyone = await all_recipients(session)
        chosen = list(people) if people is not None else everyone
        with statements_run(app) as seen:
            batch = await load_batch(session, app, chosen, cache)
    return chosen, batch, short(seen)


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
    assert all(f.listed is not None and f.listed.gaps for f in large.contracts.values())
    assert all(f.upcoming and f.changes for f in large.contracts.values())

    assert len(small_statements) == len(large_statements), (small_statements, large_statements)
    assert len(large_statements) == STATEMENTS, large_statements


async def test_the_statements_do_not_grow_with_the_contracts_a_batch_touches(
    app: App, contract: Build
) -> None:
    """A batch of 5 people touching 50 contracts and one of 40 touching 1,200 (more than
    twice the 500 rows per query of selectin loading) run the same statements."""
    await add_contracts(app, _contracts(contract, "FEW", 10, 5, "few"))
    await add_contracts(app, _contracts(contract, "MANY", 24, 40, "many"))
    await _copies(app, "FEW", 4)
    await _copies(app, "MANY", 49)
    await _fail_some(app, "FEW", 3)
    await _fail_some(app, "MANY", 30)
    few_people = [_person(n, "few") for n in range(5)]
    many_people = [_person(n, "many") for n in range(40)]

    _, few, few_statements = await _load(app, few_people)
    _, many, many_statements = await _load(app, many_people)
    assert len(few.contracts) == 50
    assert len(many.contracts) == 24 * 50
    assert sum(len(ids) for ids in many.people_contracts.values()) == 24 * 50 * 4
    assert sum(len(f) for f in few.failures.values()) == 3
    assert sum(len(f) for f in many.failures.values()) == 30
    copied = [f for f in many.contracts.values() if "/copy" in f.ref]
    assert len(copied) == 24 * 49
    assert all(f.upcoming and f.listed is not None and f.listed.gaps for f in copied)
    assert len(few_statements) == len(many_statements) == STATEMENTS, (
        few_statements,
        many_statements,
    )

    # Along a run, contracts already worked out come from the cache: the same statements
    # again, fewer rows, and the same digests.
    cache = FactsCache()
    _, first, first_statements = await _load(app, many_people[:20], cache)
    _, second, second_statements = await _load(app, many_people[20:], cache)
    assert len(first_statements) == len(second_statements) == STATEMENTS
    assert set(first.contracts) & set(second.contracts)
    for person in many_people:
        part = first if person in many_people[:20] else second
        kwargs: dict[str, Any] = {"message_id": "m", "period_label": "p", "frequency": "weekly"}
        assert compose(app, part, person, **kwargs) == compose(app, many, person, **kwargs)


async def test_people_without_contracts_and_an_empty_batch(app: App, contract: Build) -> None:
    await add_contracts(app, _contracts(contract, "SOME", 3, 3))
    _, batch, statements = await _load(app, ["nobody@example.org"])
    assert batch.contracts == {} and batch.people_contracts == {"nobody@example.org": []}
    assert len(statements) == STATEMENTS
    _, batch, statements = await _load(app, [])
    assert batch.contracts == {} and len(statements) == STATEMENTS
    async with app.session() as session:
        assert (await session.execute(select(func.count()).select_from(ContractRow))).scalar() == 3
