"""Event-driven re-derivation of milestones, through the service functions on a real database.

``BASE_CONTRACT`` (conftest) and what it derives at its NOW are described there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import tracker.service.contracts as contracts_module
from tracker.domain.types import MilestoneKind, MilestoneStatus
from tracker.errors import DuplicateContract
from tracker.service.app import App
from tracker.service.contracts import (
    add_contracts,
    add_cost,
    add_funding,
    add_milestone,
    extend,
)
from tracker.service.derive import APPLIES_AGAIN, NO_LONGER_APPLIES
from tracker.service.milestones import close_milestone
from tracker.service.registers.inputs import (
    ContractInput,
    parse_cost,
    parse_funding,
    parse_milestone,
)
from tracker.service.registers.read import read_contracts
from tracker.store.models import ContractRow, MilestoneRow

REF = "TEST/2024/1"
SEED = Path(__file__).resolve().parents[2] / "config" / "seeds" / "lancashire-drive-2024.yaml"

Milestones = Callable[[App, str], Awaitable[list[MilestoneRow]]]
Snapshot = Callable[[App], Awaitable[dict[str, list[tuple[Any, ...]]]]]
Events = Callable[[App, str], Awaitable[list[Any]]]
Build = Callable[..., ContractInput]


def by_ident(rows: list[MilestoneRow]) -> dict[tuple[str, str], MilestoneRow]:
    return {(m.kind, m.key): m for m in rows}


def derived(rows: list[MilestoneRow]) -> dict[tuple[str, str], tuple[date, str]]:
    return {(m.kind, m.key): (m.due, m.status) for m in rows if m.origin == "derived"}


def cost(year: str, amount: str, category: str = "Extra") -> Any:
    return parse_cost({"year": year, "amount": amount, "category": category}, "cost")


def funding(year: str, amount: str, status: str = "confirmed", **extra: Any) -> Any:
    return parse_funding(
        {"source": "Partner", "year": year, "amount": amount, "status": status, **extra},
        "funding",
    )


async def done(app: App, kind: MilestoneKind, note: str = "decided") -> None:
    await close_milestone(
        app, ref=REF, kind=kind, milestone_id=None, status=MilestoneStatus.DONE, note=note
    )


EXPECTED_AT_ADD = {
    ("contract_start", "start"): (date(2024, 4, 1), "open"),
    ("contract_end", "end"): (date(2026, 3, 31), "open"),
    ("extension_notice", "option:1"): (date(2025, 12, 31), "open"),
    ("last_referral", "end"): (date(2025, 9, 30), "open"),
    ("funding_confirmation", "year:2025/26"): (date(2025, 1, 31), "open"),
}


async def test_adding_a_contract_derives_its_milestones(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    result = await add_contracts(app, [contract()])

    rows = await milestones(app, REF)
    assert derived(rows) == EXPECTED_AT_ADD
    assert result.milestones == len(rows) == len(EXPECTED_AT_ADD)
    assert all(m.closed_at is None and m.created_at == app.now for m in rows)
    assert [e.kind for e in await events(app, REF)] == ["contract_added"]


async def test_activating_the_extension_moves_the_end_and_derives_a_continuation_decision(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    await add_contracts(app, [contract()])
    before = by_ident(await milestones(app, REF))

    await extend(app, REF)

    rows = await milestones(app, REF)
    after = by_ident(rows)
    assert derived(rows) == {
        ("contract_start", "start"): (date(2024, 4, 1), "open"),
        ("contract_end", "end"): (date(2027, 3, 31), "open"),
        ("extension_notice", "option:1"): (date(2025, 12, 31), "done"),
        ("last_referral", "end"): (date(2026, 9, 30), "open"),
        ("funding_confirmation", "year:2025/26"): (date(2025, 1, 31), "open"),
        # 31 Mar 2027 less 9 months (staffing-risk window), relative to the new end.
        ("continuation_decision", "end"): (date(2026, 6, 30), "open"),
    }
    # Same rows, re-dated in place; nothing that still applies was cancelled.
    for ident, row in before.items():
        assert after[ident].id == row.id
    notice = after[("extension_notice", "option:1")]
    assert notice.closed_note == "extension activated"
    assert notice.closed_at == app.now
    assert not [m for m in rows if m.status == "cancelled"]
    kinds = [e.kind for e in await events(app, REF)]
    assert "extension_activated" in kinds
    assert "milestone_cancelled" not in kinds
    moved = [e.detail for e in await events(app, REF) if e.kind == "milestone_moved"]
    assert sorted(moved) == [
        "contract_end moved from 2026-03-31 to 2027-03-31",
        "last_referral moved from 2025-09-30 to 2026-09-30",
    ]
    # Each event names the milestone it concerns; a contract-wide one names none.
    named = {(e.kind, e.milestone_id) for e in await events(app, REF)}
    assert named == {
        ("contract_added", None),
        ("extension_activated", None),
        ("milestone_done", after[("extension_notice", "option:1")].id),
        ("milestone_moved", after[("contract_end", "end")].id),
        ("milestone_moved", after[("last_referral", "end")].id),
    }
    async with app.session() as session:
        stored = (await session.execute(select(ContractRow))).scalar_one()
        assert (stored.end_date, stored.original_end) == (date(2027, 3, 31), date(2026, 3, 31))
        assert stored.extensions[0].status == "activated"


async def test_declining_the_extension_keeps_the_end_and_derives_a_continuation_decision(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    await add_contracts(app, [contract()])

    await extend(app, REF, decline=True)

    rows = await milestones(app, REF)
    assert derived(rows) == {
        ("contract_start", "start"): (date(2024, 4, 1), "open"),
        ("contract_end", "end"): (date(2026, 3, 31), "open"),
        ("extension_notice", "option:1"): (date(2025, 12, 31), "done"),
        ("last_referral", "end"): (date(2025, 9, 30), "open"),
        ("funding_confirmation", "year:2025/26"): (date(2025, 1, 31), "open"),
        # 31 Mar 2026 less 9 months (staffing-risk window): Monday 30 Jun 2025.
        ("continuation_decision", "end"): (date(2025, 6, 30), "open"),
    }
    notice = by_ident(rows)[("extension_notice", "option:1")]
    assert notice.closed_note == "extension declined"
    kinds = [e.kind for e in await events(app, REF)]
    assert "extension_declined" in kinds
    assert "milestone_moved" not in kinds
    assert "milestone_cancelled" not in kinds
    async with app.session() as session:
        stored = (await session.execute(select(ContractRow))).scalar_one()
        assert stored.end_date == date(2026, 3, 31)
        assert stored.extensions[0].status == "declined"


async def test_manual_milestones_survive_every_change_untouched(
    app: App, contract: Build, milestones: Milestones
) -> None:
    review = {"kind": "review", "due": "2025-01-15", "title": "Annual review"}
    await add_contracts(app, [contract(milestones=[review])])
    await add_milestone(
        app, REF, parse_milestone({"kind": "custom", "due": "2024-07-01", "note": "n"}, "m")
    )
    custom = next(m for m in await milestones(app, REF) if m.kind == "custom")
    await close_milestone(
        app, ref=None, kind=None, milestone_id=custom.id, status=MilestoneStatus.DONE, note="ok"
    )

    def manual(rows: list[MilestoneRow]) -> list[tuple[Any, ...]]:
        return [
            (m.id, m.kind, m.key, m.due, m.title, m.status, m.note, m.closed_note, m.updated_at)
            for m in rows
            if m.origin == "manual"
        ]

    kept = manual(await milestones(app, REF))
    assert [(row[1], row[5]) for row in kept] == [("review", "open"), ("custom", "done")]

    changes: list[Callable[[], Awaitable[Any]]] = [
        lambda: add_cost(app, REF, cost("2025/26", "250")),
        lambda: add_funding(app, REF, funding("2025/26", "750")),
        lambda: add_cost(app, REF, cost("2026/27", "100")),
        lambda: done(app, MilestoneKind.LAST_REFERRAL),
        lambda: extend(app, REF),
    ]
    for change in changes:
        await change()
        assert manual(await milestones(app, REF)) == kept


async def test_a_derived_milestone_whose_date_did_not_move_keeps_its_status(
    app: App, contract: Build, milestones: Milestones
) -> None:
    await add_contracts(app, [contract()])
    await done(app, MilestoneKind.FUNDING_CONFIRMATION, note="CFO accepts the liability")
    ident = ("funding_confirmation", "year:2025/26")
    before = by_ident(await milestones(app, REF))[ident]

    await add_cost(app, REF, cost("2025/26", "100"))  # gap grows, date does not move

    after = by_ident(await milestones(app, REF))[ident]
    assert (after.id, after.due, after.status) == (before.id, before.due, "done")
    assert after.closed_note == "CFO accepts the liability"
    assert after.closed_at == before.closed_at
    assert "£600.00" in after.title  # the title follows the data


async def test_a_moved_milestone_is_reopened_and_the_move_recorded(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    await add_contracts(app, [contract()])
    await done(app, MilestoneKind.LAST_REFERRAL, note="referrals closed")
    ident = ("last_referral", "end")
    before = by_ident(await milestones(app, REF))[ident]
    assert before.status == "done"

    await extend(app, REF)

    after = by_ident(await milestones(app, REF))[ident]
    assert after.id == before.id
    assert after.due == date(2026, 9, 30)
    assert after.status == "open"
    assert after.closed_at is None
    assert after.closed_note is None
    moved = [e for e in await events(app, REF) if e.kind == "milestone_moved"]
    assert "last_referral moved from 2025-09-30 to 2026-09-30" in [e.detail for e in moved]
    assert all(e.at == app.now for e in moved)


async def test_a_milestone_that_no_longer_applies_is_cancelled_and_reopens_when_it_applies(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    await add_contracts(app, [contract()])
    ident = ("funding_confirmation", "year:2025/26")
    original = by_ident(await milestones(app, REF))[ident]
    count = len(await milestones(app, REF))

    # Confirmed funding closes the 2025/26 gap: the decision no longer applies.
    await add_funding(app, REF, funding("2025/26", "500"))

    rows = await milestones(app, REF)
    gone = by_ident(rows)[ident]
    assert len(rows) == count  # cancelled, not deleted
    assert (gone.id, gone.due, gone.status) == (original.id, original.due, "cancelled")
    assert gone.closed_note == NO_LONGER_APPLIES
    assert gone.closed_at == app.now
    (cancelled,) = [e for e in await events(app, REF) if e.kind == "milestone_cancelled"]
    assert (cancelled.milestone_id, cancelled.detail) == (
        original.id,
        f"funding_confirmation: {NO_LONGER_APPLIES}",
    )

    # Another cost opens the gap again: the same row re-opens.
    await add_cost(app, REF, cost("2025/26", "40"))

    rows = await milestones(app, REF)
    back = by_ident(rows)[ident]
    assert len(rows) == count
    assert (back.id, back.due, back.status) == (original.id, original.due, "open")
    assert back.closed_at is None and back.closed_note is None
    assert "£40.00" in back.title
    # Logged as a change of its own (calendars need a new version of it).
    (reopened,) = [e for e in await events(app, REF) if e.kind == "milestone_reopened"]
    assert (reopened.milestone_id, reopened.detail) == (
        original.id,
        f"funding_confirmation: {APPLIES_AGAIN}",
    )


async def test_a_milestone_cancelled_by_a_person_does_not_reopen(
    app: App, contract: Build, milestones: Milestones, events: Events
) -> None:
    await add_contracts(app, [contract()])
    await close_milestone(
        app,
        ref=REF,
        kind=MilestoneKind.FUNDING_CONFIRMATION,
        milestone_id=None,
        status=MilestoneStatus.CANCELLED,
        note="covered by the core budget",
    )

    await add_cost(app, REF, cost("2025/26", "40"))

    row = by_ident(await milestones(app, REF))[("funding_confirmation", "year:2025/26")]
    assert row.status == "cancelled"
    assert row.closed_note == "covered by the core budget"
    changes = [(e.kind, e.milestone_id) for e in await events(app, REF)]
    assert ("milestone_cancelled", row.id) in changes
    assert "milestone_reopened" not in {kind for kind, _ in changes}


# -- one transaction -----------------------------------------------------------------------


async def test_a_duplicate_ref_in_a_batch_writes_nothing(
    app: App, contract: Build, snapshot: Snapshot
) -> None:
    await add_contracts(app, [contract()])
    before = await snapshot(app)

    with pytest.raises(DuplicateContract):
        await add_contracts(app, [contract(ref="NEW/1"), contract()])

    assert await snapshot(app) == before


async def test_a_failure_after_the_first_contract_was_flushed_writes_nothing(
    app: App, contract: Build, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ref check is skipped (as if another writer inserted the ref in between), so the
    first contract, its milestones, events and reminders are flushed before the second
    insert fails on the unique ref: the whole call must still roll back."""
    await add_contracts(app, [contract()])
    before = await snapshot(app)

    async def nothing_taken(session: Any, refs: Any) -> set[str]:
        return set()

    monkeypatch.setattr(contracts_module, "_existing_refs", nothing_taken)
    with pytest.raises(IntegrityError):
        await add_contracts(app, [contract(ref="NEW/1"), contract()])

    assert await snapshot(app) == before


async def test_a_failure_while_re_deriving_writes_nothing(
    app: App, contract: Build, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """add_funding fails after the line was added and milestones re-derived (one of them
    cancelled): the line, the event and the milestone change all roll back."""
    await add_contracts(app, [contract()])
    before = await snapshot(app)
    real_refresh = contracts_module.refresh

    async def refresh_then_fail(session: Any, row: Any, app_: App) -> None:
        await real_refresh(session, row, app_)
        await session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(contracts_module, "refresh", refresh_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        await add_funding(app, REF, funding("2025/26", "500"))
    with pytest.raises(RuntimeError, match="disk full"):
        await extend(app, REF)

    assert await snapshot(app) == before


async def test_dry_run_writes_nothing(app: App, contract: Build, snapshot: Snapshot) -> None:
    await add_contracts(app, [contract(ref="OTHER/1")])
    before = await snapshot(app)

    result = await add_contracts(app, [*read_contracts(SEED), contract()], dry_run=True)

    assert result.dry_run is True
    assert result.milestones > 0
    assert await snapshot(app) == before


async def test_contract_kind_key_is_unique(
    app: App, contract: Build, milestones: Milestones
) -> None:
    await add_contracts(app, [contract()])
    for change in (
        lambda: add_funding(app, REF, funding("2025/26", "500")),
        lambda: add_cost(app, REF, cost("2025/26", "10")),
        lambda: extend(app, REF),
        lambda: add_cost(app, REF, cost("2026/27", "10")),
    ):
        await change()
    rows = await milestones(app, REF)
    idents = [(m.kind, m.key) for m in rows]
    assert len(idents) == len(set(idents))

    existing = rows[0]
    async with app.session() as session:
        session.add(
            MilestoneRow(
                contract_id=existing.contract_id,
                kind=existing.kind,
                key=existing.key,
                due=date(2030, 1, 1),
                title="duplicate",
                status="open",
                origin="derived",
                created_at=app.now,
                updated_at=app.now,
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()
    assert len(await milestones(app, REF)) == len(rows)


# -- the Lancashire record -----------------------------------------------------------------

LANCS = "LANCS-DRIVE"
LANCS_NOW = datetime(2024, 9, 3, 9, 0, tzinfo=UTC)  # the day after decision 20/2024


async def test_the_lancashire_seed_yields_the_expected_milestones(
    app_at: Callable[[datetime], Awaitable[App]], milestones: Milestones
) -> None:
    app = await app_at(LANCS_NOW)
    await add_contracts(app, read_contracts(SEED))

    rows = await milestones(app, LANCS)
    assert {(m.kind, m.key, m.origin): m.due for m in rows if m.kind != "publication"} == {
        ("contract_start", "start", "derived"): date(2023, 8, 1),
        ("contract_end", "end", "derived"): date(2025, 3, 31),
        ("extension_notice", "option:1", "derived"): date(2024, 9, 30),
        ("funding_confirmation", "year:2025/26", "derived"): date(2025, 1, 31),
        # 31 Mar 2024 is a Sunday; back over Sat and Good Friday 29 Mar to Thu 28 Mar.
        ("last_referral", "end", "derived"): date(2024, 3, 28),
    }
    publication = [m for m in rows if m.kind == "publication"]
    assert [(m.due, m.origin, m.status) for m in publication] == [
        (date(2024, 9, 5), "derived", "open")  # from decision 20/2024 of 2 Sep 2024
    ]
    kinds = {m.kind: m for m in rows}
    assert "£298,403.22" in kinds["funding_confirmation"].title
    assert kinds["last_referral"].note is not None
    assert "28" in kinds["last_referral"].note and "31" in kinds["last_referral"].note

    # The decision record activated the option: the end moves a year, the notice is done
    # and the continuation decision falls 9 months before 31 Mar 2026.
    await extend(app, LANCS)
    after = {(m.kind, m.key): (m.due, m.status) for m in await milestones(app, LANCS)}
    assert after[("contract_end", "end")] == (date(2026, 3, 31), "open")
    assert after[("extension_notice", "option:1")] == (date(2024, 9, 30), "done")
    assert after[("continuation_decision", "end")] == (date(2025, 6, 30), "open")
    assert after[("last_referral", "end")] == (date(2025, 3, 31), "open")
    assert after[("funding_confirmation", "year:2025/26")] == (date(2025, 1, 31), "open")
