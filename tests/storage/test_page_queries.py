"""The web app's home (My decisions) and contract page read a fixed number of SQL
statements whatever the number of contracts: counted with a ``before_cursor_execute``
listener at 5 and at 55 contracts, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from support.statements import not_begin, statements_run

from tracker.service.app import App
from tracker.service.contracts import add_contracts
from tracker.service.registers.inputs import ContractInput
from tracker.service.views.contract_page import contract_page
from tracker.service.views.contracts import HISTORY_SHOWN
from tracker.service.views.decisions import STATEMENTS, my_decisions
from tracker.store.models import ContractRow, EventRow

Build = Callable[..., ContractInput]
VIEWER = "viewer@example.org"
#: The contract page: the contract, its seven collections, history, attempts, variations.
CONTRACT_PAGE_STATEMENTS = 11


def _batch(contract: Build, prefix: str, count: int) -> list[ContractInput]:
    """``count`` contracts the viewer owns, each with a manual review and a decision."""
    return [
        contract(
            ref=f"{prefix}/{i:03d}",
            owner=VIEWER,
            watchers=[f"w{i}@example.org"],
            milestones=[{"kind": "review", "due": "2024-07-01", "title": f"Review {i}"}],
            decisions=[{"id": f"{i}/2024", "date": "2024-05-01"}],
        )
        for i in range(count)
    ]


async def _pages(app: App) -> tuple[int, list[str], list[str]]:
    with statements_run(app, not_begin) as home:
        decisions = await my_decisions(app, VIEWER)
    with statements_run(app, not_begin) as page:
        found = await contract_page(app, "SMALL/000", VIEWER, admin=False)
    assert found is not None and found.decisions
    return len(decisions.upcoming) + len(decisions.overdue), home, page


async def test_home_and_contract_page_statements_do_not_grow(app: App, contract: Build) -> None:
    await add_contracts(app, _batch(contract, "SMALL", 5))
    small_items, small_home, small_page = await _pages(app)
    await add_contracts(app, _batch(contract, "LARGE", 50))
    large_items, large_home, large_page = await _pages(app)

    assert large_items == 11 * small_items > 0
    assert len(small_home) == len(large_home) == STATEMENTS, large_home
    assert len(small_page) == len(large_page) == CONTRACT_PAGE_STATEMENTS, large_page


async def test_a_contract_not_theirs_is_absent_in_the_same_statements(
    app: App, contract: Build
) -> None:
    await add_contracts(app, _batch(contract, "SMALL", 2))
    with statements_run(app, not_begin) as seen:
        assert await contract_page(app, "SMALL/000", "other@example.org", admin=False) is None
        assert await contract_page(app, "NO-SUCH", VIEWER, admin=False) is None
    assert len(seen) == 2
    assert await contract_page(app, "SMALL/001", "w1@example.org", admin=False) is not None
    assert await contract_page(app, "SMALL/001", "admin@example.org", admin=True) is not None


async def test_the_contract_page_shows_the_latest_changes_and_counts_the_rest(
    app: App, contract: Build
) -> None:
    await add_contracts(app, _batch(contract, "SMALL", 1))
    async with app.session() as session, session.begin():
        row = (await session.execute(select(ContractRow))).scalar_one()
        for n in range(HISTORY_SHOWN + 10):
            at = app.now + timedelta(minutes=n)
            session.add(EventRow(contract_id=row.id, at=at, kind="edited", detail=f"change {n}"))
    with statements_run(app, not_begin) as seen:
        page = await contract_page(app, "SMALL/000", VIEWER, admin=False)
    assert page is not None
    details = [e.detail for e in page.detail.events]
    # The newest first, as many as shown; the "added" event and the oldest nine are not.
    assert details == [f"change {n}" for n in reversed(range(10, HISTORY_SHOWN + 10))]
    assert page.detail.events_total == HISTORY_SHOWN + 11
    assert page.detail.earlier_events == 11
    assert len(seen) == CONTRACT_PAGE_STATEMENTS, seen
