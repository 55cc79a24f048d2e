"""The statements behind the web app's home, contract page and register search indexes
for the viewer's own rows: SQLite's EXPLAIN QUERY PLAN on 1,000 generated contracts (with
the statistics ANALYZE leaves) shows no scan of a table, so their time does not grow with
the database (bench/pages.py times them at 100 and 10,000 contracts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from support.statements import first_word, statements_run

from bench.generate import DEFAULT_NOW, generate, person
from tracker.policy import load_policy
from tracker.service.app import App
from tracker.service.views.contract_page import contract_page
from tracker.service.views.decisions import my_decisions
from tracker.service.views.register import RegisterQuery, register_page
from tracker.settings import Settings

VIEWER = person(1)
PAGES: dict[str, Callable[[App], Awaitable[Any]]] = {
    "home": lambda app: my_decisions(app, VIEWER),
    "contract": lambda app: contract_page(app, "GEN/2022/00002", VIEWER, False),
    "register": lambda app: register_page(app, VIEWER, False, RegisterQuery()),
}


async def _plans(app: App, read: Callable[[App], Awaitable[Any]]) -> list[tuple[str, list[str]]]:
    """Each statement ``read`` runs, with its plan's lines."""
    with statements_run(app, first_word("SELECT")) as seen:
        assert await read(app) is not None
    plans = []
    async with app.engine.connect() as conn:
        for statement, params in seen:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
            plans.append((statement, [str(row[-1]) for row in rows]))
    return plans


def _table_scans(lines: list[str]) -> list[str]:
    """The plan's scans of a table: not of a list given as one JSON parameter (json_each,
    a virtual table), nor of a subquery's own rows (one contract's changes, counted)."""
    return [
        line
        for line in lines
        if line.startswith("SCAN")
        and "VIRTUAL TABLE" not in line
        and not line.startswith("SCAN (subquery")
    ]


async def test_the_pages_statements_search_indexes(sqlite_url: str) -> None:
    await generate(sqlite_url, 1_000)
    app = App(settings=Settings(), policy=load_policy(), now=DEFAULT_NOW, database_url=sqlite_url)
    try:
        plans = {page: await _plans(app, read) for page, read in PAGES.items()}
    finally:
        await app.close()
    for page, found in plans.items():
        assert found, page
        for statement, lines in found:
            if "reminders.status" in statement:
                # The failed deliveries: by contract and status, not every failed one.
                assert any("ix_reminders_contract_id_status" in line for line in lines), lines
            elif page == "home" and statement.startswith("SELECT contracts."):
                # The person's contracts: at 1,000 contracts SQLite's planner reads them
                # all (a fraction of a millisecond) rather than search three indexes; at
                # 10,000 it searches them (bench/pages.py).
                continue
            assert not _table_scans(lines), (page, statement, lines)
