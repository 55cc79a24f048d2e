"""Each milestone's stored next nag time (``next_nag_at``, with the default interval it was
worked out with, ``nag_default_days``) on both backends: after derivation, after the
sweep plans a nag, done, re-opened, snoozed, moved, under a contract's own policy and a
changed configuration, after the upgrade to 0007; and an idle sweep reads no overdue
decision whose nag is not due.

``BASE_CONTRACT`` (conftest): its funding decision for 2025/26 is due Friday 31 Jan 2025;
with the default nag interval (7 days) its nags fall on Fridays 7, 14, 21 Feb ... at
09:00 London (GMT: 09:00 UTC). Owner owner@example.org, sponsor cfo@example.org.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import Connection
from support.statements import first_word, statements_run

from tracker.domain.reminders import nag_plannable_at
from tracker.domain.types import FACT_KINDS, PASSING_KINDS, MilestoneKind, MilestoneStatus
from tracker.policy import load_policy
from tracker.service.app import App, make_app, opened
from tracker.service.contracts import (
    add_contracts,
    add_cost,
    add_funding,
    extend,
    refresh_all,
    set_policy,
)
from tracker.service.milestones import close_milestone, snooze_milestone
from tracker.service.registers.inputs import ContractInput, PolicyInput, parse_cost, parse_funding
from tracker.service.reminders.nags import nags_due, plan_nags
from tracker.store.engine import create_engine
from tracker.store.models import ContractRow, MilestoneRow, ReminderRow
from tracker.store.schema import alembic_config, head_revision, upgrade

#: As in conftest: Monday 3 June 2024, before every derived date of ``BASE_CONTRACT``.
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
REF = "TEST/2024/1"
OWNER, SPONSOR = "owner@example.org", "cfo@example.org"
FUNDING = MilestoneKind.FUNDING_CONFIRMATION
LAST_REFERRAL = MilestoneKind.LAST_REFERRAL
NOTICE = MilestoneKind.EXTENSION_NOTICE

Build = Callable[..., ContractInput]
AppAt = Callable[..., Awaitable[App]]
State = tuple[datetime | None, int | None]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def at(db_url: str) -> AsyncIterator[AppAt]:
    """``await at(now, policy={...})``: an App on the database at ``now``, with the
    configured policy (defaults, plus a user's ``[policy]`` table if given)."""
    async with AsyncExitStack() as stack:

        async def open_app(now: datetime, policy: dict[str, Any] | None = None) -> App:
            app = make_app(db=db_url, now=now)
            app.policy = load_policy(policy)
            return await stack.enter_async_context(opened(app))

        yield open_app


async def state(app: App, kind: MilestoneKind, ref: str = REF) -> State:
    (row,) = await _rows(app, ref, kind)
    return row.next_nag_at, row.nag_default_days


async def _rows(app: App, ref: str, kind: MilestoneKind | None = None) -> list[MilestoneRow]:
    async with app.session() as session:
        statement = (
            select(MilestoneRow)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .where(ContractRow.ref == ref)
            .order_by(MilestoneRow.id)
        )
        if kind is not None:
            statement = statement.where(MilestoneRow.kind == kind.value)
        return list((await session.execute(statement)).scalars())


async def sweep_nags(app: App) -> int:
    """What every sweep does first: plan the due nags (returns how many rows it added)."""
    async with app.session() as session:
        return await plan_nags(session, app)


async def nag_rows(app: App, kind: MilestoneKind, ref: str = REF) -> list[tuple[int, str]]:
    (milestone,) = await _rows(app, ref, kind)
    async with app.session() as session:
        rows = await session.execute(
            select(ReminderRow.lead, ReminderRow.recipient)
            .where(ReminderRow.milestone_id == milestone.id, ReminderRow.lead < 0)
            .order_by(ReminderRow.lead.desc(), ReminderRow.recipient)
        )
        return [(lead, who) for lead, who in rows.all()]


def both(lead: int) -> list[tuple[int, str]]:
    return [(lead, SPONSOR), (lead, OWNER)]


async def close(app: App, kind: MilestoneKind, status: MilestoneStatus) -> None:
    await close_milestone(app, ref=REF, kind=kind, milestone_id=None, status=status, note="x")


async def snooze(app: App, kind: MilestoneKind, until: date) -> None:
    await snooze_milestone(app, ref=REF, kind=kind, milestone_id=None, until=until, note="x")


# -- derivation -----------------------------------------------------------------------------


async def test_every_open_decision_gets_its_first_nag_time_and_facts_none(
    at: AppAt, contract: Build
) -> None:
    app = await at(NOW)
    await add_contracts(app, [contract()])
    rows = await _rows(app, REF)
    assert len(rows) == 5
    for row in rows:
        if MilestoneKind(row.kind) in PASSING_KINDS:
            assert (row.next_nag_at, row.nag_default_days) == (None, None), row.kind
        else:
            first = nag_plannable_at(row.due + timedelta(days=7))
            assert (row.next_nag_at, row.nag_default_days) == (first, 7), row.kind
    assert await state(app, FUNDING) == (utc(2025, 2, 7, 9), 7)
    # The last referral cannot be acted on once passed: never nagged.
    assert await state(app, LAST_REFERRAL) == (None, None)
    # Extension notice due Wed 31 Dec 2025: Wed 7 Jan 2026, 09:00 GMT.
    assert await state(app, NOTICE) == (utc(2026, 1, 7, 9), 7)


async def test_nags_stop_after_max_nags(at: AppAt, contract: Build) -> None:
    await add_contracts(await at(NOW), [contract()])
    for day in (7, 14, 21, 28):
        assert await sweep_nags(await at(utc(2025, 2, day, 9))) == 2
    app = await at(utc(2025, 4, 30, 10))
    assert await nag_rows(app, FUNDING) == both(-7) + both(-14) + both(-21) + both(-28)
    assert await state(app, FUNDING) == (None, 7)
    assert await sweep_nags(app) == 0


# -- the sweep ------------------------------------------------------------------------------


async def test_planning_a_nag_moves_it_on_to_the_next_and_collapses_missed_ones(
    at: AppAt, contract: Build
) -> None:
    await add_contracts(await at(NOW), [contract()])

    early = await at(utc(2025, 2, 7, 8, 59))
    assert await sweep_nags(early) == 0
    assert await state(early, FUNDING) == (utc(2025, 2, 7, 9), 7)

    nine = await at(utc(2025, 2, 7, 9))
    assert await sweep_nags(nine) == 2
    assert await nag_rows(nine, FUNDING) == both(-7)
    assert await state(nine, FUNDING) == (utc(2025, 2, 14, 9), 7)
    assert await sweep_nags(nine) == 0  # planned once
    assert await state(nine, FUNDING) == (utc(2025, 2, 14, 9), 7)

    # Down for two weeks: the nags of 14 and 21 Feb collapse into the latest.
    back = await at(utc(2025, 2, 24, 12))
    assert await sweep_nags(back) == 2
    assert await nag_rows(back, FUNDING) == both(-7) + both(-21)
    assert await state(back, FUNDING) == (utc(2025, 2, 28, 9), 7)


async def test_a_due_nag_is_previewed_without_moving_anything(at: AppAt, contract: Build) -> None:
    await add_contracts(await at(NOW), [contract()])
    app = await at(utc(2025, 2, 7, 10))
    async with app.session() as session:
        due = await nags_due(session, app)
        await session.rollback()
    assert sorted((n.lead, n.recipient) for n in due) == both(-7)
    assert await state(app, FUNDING) == (utc(2025, 2, 7, 9), 7)
    assert await nag_rows(app, FUNDING) == []


# -- status ---------------------------------------------------------------------------------


async def test_done_or_cancelled_means_no_next_nag(at: AppAt, contract: Build) -> None:
    await add_contracts(await at(NOW), [contract()])
    await close(await at(utc(2025, 2, 3, 10)), FUNDING, MilestoneStatus.DONE)
    later = await at(utc(2025, 2, 7, 10))
    assert await state(later, FUNDING) == (None, None)
    assert await sweep_nags(later) == 0
    assert await nag_rows(later, FUNDING) == []

    await close(await at(utc(2025, 2, 3, 10)), LAST_REFERRAL, MilestoneStatus.CANCELLED)
    assert await state(later, LAST_REFERRAL) == (None, None)


async def test_a_moved_due_date_moves_it_and_re_opens_a_done_decision(
    at: AppAt, contract: Build
) -> None:
    await add_contracts(await at(NOW), [contract()])
    await close(await at(utc(2025, 9, 29, 10)), LAST_REFERRAL, MilestoneStatus.DONE)
    app = await at(utc(2025, 10, 6, 10))
    assert await state(app, LAST_REFERRAL) == (None, None)

    # Activating the extension moves the end to 31 Mar 2027: the last referral moves to
    # Wed 30 Sep 2026 and re-opens (a passing kind: still never nagged).
    await extend(app, REF)
    (row,) = await _rows(app, REF, LAST_REFERRAL)
    assert (row.due, row.status) == (date(2026, 9, 30), "open")
    assert await state(app, LAST_REFERRAL) == (None, None)
    await sweep_nags(app)
    assert await nag_rows(app, LAST_REFERRAL) == []


async def test_a_decision_that_applies_again_is_nagged_again(at: AppAt, contract: Build) -> None:
    await add_contracts(await at(NOW), [contract()])
    assert await sweep_nags(await at(utc(2025, 2, 7, 9))) == 2

    # Confirmed funding closes the gap: the decision no longer applies (its unsent nag
    # rows go); another cost opens the gap again, the same decision re-opens.
    await add_funding(
        await at(utc(2025, 2, 8, 10)),
        REF,
        parse_funding(
            {"source": "P", "year": "2025/26", "amount": "500", "status": "confirmed"}, "f"
        ),
    )
    app = await at(utc(2025, 2, 10, 10))
    assert await state(app, FUNDING) == (None, None)
    await add_cost(app, REF, parse_cost({"year": "2025/26", "amount": "40", "category": "X"}, "c"))
    assert await state(app, FUNDING) == (utc(2025, 2, 7, 9), 7)  # due now: the -7 nag
    assert await sweep_nags(app) == 2
    assert await state(app, FUNDING) == (utc(2025, 2, 14, 9), 7)


# -- snooze ---------------------------------------------------------------------------------


async def test_a_snooze_holds_the_next_nag_until_nine_on_its_last_day(
    at: AppAt, contract: Build
) -> None:
    await add_contracts(await at(NOW), [contract()])
    await snooze(await at(utc(2025, 2, 3, 10)), FUNDING, date(2025, 2, 20))
    held = await at(utc(2025, 2, 7, 9))
    assert await state(held, FUNDING) == (utc(2025, 2, 20, 9), 7)
    assert await sweep_nags(held) == 0
    assert await sweep_nags(await at(utc(2025, 2, 20, 8, 59))) == 0

    # Released at 09:00 on the 20th: the latest nag (-14, of Fri 14 Feb) goes out.
    released = await at(utc(2025, 2, 20, 9))
    assert await sweep_nags(released) == 2
    assert await nag_rows(released, FUNDING) == both(-14)
    assert await state(released, FUNDING) == (utc(2025, 2, 21, 9), 7)


async def test_a_shortened_snooze_brings_the_next_nag_back(at: AppAt, contract: Build) -> None:
    await add_contracts(await at(NOW), [contract()])
    await snooze(await at(utc(2025, 2, 3, 10)), FUNDING, date(2025, 3, 20))
    app = await at(utc(2025, 2, 4, 10))
    assert await state(app, FUNDING) == (utc(2025, 3, 20, 9), 7)
    await snooze(app, FUNDING, date(2025, 2, 10))
    assert await state(app, FUNDING) == (utc(2025, 2, 10, 9), 7)

    monday = await at(utc(2025, 2, 10, 9))
    assert await sweep_nags(monday) == 2
    assert await nag_rows(monday, FUNDING) == both(-7)
    assert await state(monday, FUNDING) == (utc(2025, 2, 14, 9), 7)


# -- policy ---------------------------------------------------------------------------------


async def test_a_contracts_own_interval_sets_it_and_takes_it_off_the_default(
    at: AppAt, contract: Build
) -> None:
    app = await at(NOW)
    await add_contracts(
        app, [contract(ref="OWN/1", policy={"funding_confirmation": {"nag_days": 14}})]
    )
    assert await state(app, FUNDING, "OWN/1") == (utc(2025, 2, 14, 9), None)

    await add_contracts(app, [contract()])
    await set_policy(app, REF, PolicyInput(FUNDING, None, None, 3))
    assert await state(app, FUNDING) == (utc(2025, 2, 3, 9), None)  # Mon 3 Feb
    # Leads only: the interval is still the configured one.
    await set_policy(app, REF, PolicyInput(NOTICE, (30, 7), None, None))
    assert await state(app, NOTICE) == (utc(2026, 1, 7, 9), 7)

    monday = await at(utc(2025, 2, 3, 9))
    assert await sweep_nags(monday) == 2
    assert await nag_rows(monday, FUNDING) == both(-3)
    assert await state(monday, FUNDING) == (utc(2025, 2, 6, 9), None)


async def test_a_changed_configuration_is_noticed_by_the_next_sweep(
    at: AppAt, contract: Build
) -> None:
    await add_contracts(await at(NOW), [contract(), contract(ref="OWN/1", policy={
        "funding_confirmation": {"nag_days": 14}})])  # fmt: skip

    # Configured: funding decisions nagged every 3 days. The first was Mon 3 Feb.
    every_three = {"reminders": {"funding_confirmation": {"nag_days": 3}}}
    app = await at(utc(2025, 2, 3, 10), every_three)
    assert await sweep_nags(app) == 2
    assert await nag_rows(app, FUNDING) == both(-3)
    assert await state(app, FUNDING) == (utc(2025, 2, 6, 9), 3)
    assert await state(app, FUNDING, "OWN/1") == (utc(2025, 2, 14, 9), None)  # its own
    assert await state(app, NOTICE) == (utc(2026, 1, 7, 9), 7)  # another kind
    assert await sweep_nags(app) == 0

    # No nags for funding decisions at all.
    none = await at(utc(2025, 2, 4, 10), {"reminders": {"funding_confirmation": {"nag_days": 0}}})
    assert await sweep_nags(none) == 0
    assert await state(none, FUNDING) == (None, 0)

    # Back to the default: the latest 7-day nag (-7, Fri 7 Feb) is due at once.
    default = await at(utc(2025, 2, 10, 10))
    assert await sweep_nags(default) == 2
    assert await nag_rows(default, FUNDING) == both(-3) + both(-7)
    assert await state(default, FUNDING) == (utc(2025, 2, 14, 9), 7)


# -- an idle sweep --------------------------------------------------------------------------


async def test_an_idle_sweep_reads_no_overdue_decision(
    at: AppAt, contract: Build, db_url: str
) -> None:
    """Many overdue open decisions, each with its latest nag planned: the nag query reads
    no milestone (one statement, no rows), and on SQLite it is index range scans only."""
    refs = [f"IDLE/{n}" for n in range(12)]
    await add_contracts(await at(NOW), [contract(ref=ref) for ref in refs])
    assert await sweep_nags(await at(utc(2025, 2, 7, 9))) == 2 * len(refs)

    app = await at(utc(2025, 2, 7, 10))
    async with app.session() as session:
        overdue = await session.scalar(
            select(func.count())
            .select_from(MilestoneRow)
            .where(MilestoneRow.status == "open", MilestoneRow.due < app.today)
            .where(MilestoneRow.kind.not_in([k.value for k in FACT_KINDS]))
        )
    assert overdue == len(refs)

    loaded: list[MilestoneRow] = []

    def load(target: MilestoneRow, context: Any) -> None:
        loaded.append(target)

    event.listen(MilestoneRow, "load", load)
    try:
        with statements_run(app) as statements:
            assert await sweep_nags(app) == 0
    finally:
        event.remove(MilestoneRow, "load", load)
    assert loaded == []
    is_select = first_word("SELECT")
    selects = [(s, p) for s, p in statements if is_select(s)]
    assert len(selects) == 1, statements
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT")) for s, _ in statements)

    if db_url.startswith("sqlite"):
        statement, params = selects[0]
        async with app.engine.connect() as conn:
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
        lines = [str(row[-1]) for row in plan]
        assert any("ix_milestones_next_nag_at (next_nag_at<?)" in line for line in lines), lines
        assert any("ix_milestones_kind_nag_default_days" in line for line in lines), lines
        assert not any(line.startswith("SCAN") for line in lines), lines


# -- the upgrade to 0007 --------------------------------------------------------------------


def _alembic(revision: str, how: str = "upgrade") -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        getattr(command, how)(cfg, revision)

    return run


async def _at_0006_with_data(url: str) -> None:
    """A database as release 0006 left it: a contract, its milestones (an overdue open
    funding decision whose -7 nag was planned, a done one, open facts, open decisions
    still to come) and reminder rows; written with plain SQL."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_alembic("0006"))
        stamp = "'2024-06-03 09:00:00'"
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO contracts (id, ref, title, provider, start_date, end_date,"
                    " original_end, owner, sponsor, created_at, updated_at) VALUES (1, :ref,"
                    f" 'T', 'P', '2024-04-01', '2026-03-31', '2026-03-31', :owner, :sponsor,"
                    f" {stamp}, {stamp})"
                ),
                {"ref": REF, "owner": OWNER, "sponsor": SPONSOR},
            )
            rows = [
                (1, "contract_start", "start", "2024-04-01", "open"),
                (2, "contract_end", "end", "2026-03-31", "open"),
                (3, "funding_confirmation", "year:2025/26", "2025-01-31", "open"),
                (4, "last_referral", "end", "2025-09-30", "open"),
                (5, "review", "manual:aaaaaaaaaaaa", "2024-10-01", "done"),
                (6, "procurement", "manual:bbbbbbbbbbbb", "2025-06-02", "open"),
            ]
            for mid, kind, key, due, status in rows:
                await conn.execute(
                    text(
                        "INSERT INTO milestones (id, contract_id, kind, key, due, title, status,"
                        f" origin, created_at, updated_at) VALUES (:id, 1, :kind, :key, '{due}',"
                        f" 'M', :status, 'manual', {stamp}, {stamp})"
                    ),
                    {"id": mid, "kind": kind, "key": key, "status": status},
                )
            for n, who in enumerate((OWNER, SPONSOR)):
                await conn.execute(
                    text(
                        "INSERT INTO reminders (id, milestone_id, contract_id, milestone_due,"
                        " lead, recipient, role, send_at, due_at, status, attempts, message_id,"
                        " created_at, updated_at) VALUES (:id, 3, 1, '2025-01-31', -7, :who,"
                        " 'owner', '2025-02-07 09:00:00', '2025-02-07 09:00:00', 'sent', 1,"
                        f" :mid, {stamp}, {stamp})"
                    ),
                    {"id": n + 1, "who": who, "mid": f"<n{n}@x>"},
                )
            if conn.dialect.name == "postgresql":
                for table in ("contracts", "milestones", "reminders"):
                    await conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)")
                    )
    finally:
        await engine.dispose()


async def _states(app: App) -> dict[int, State]:
    return {m.id: (m.next_nag_at, m.nag_default_days) for m in await _rows(app, REF)}


async def test_the_upgrade_backfills_a_safe_bound_and_init_makes_it_exact(
    db_url: str, at: AppAt
) -> None:
    await _at_0006_with_data(db_url)
    engine = create_engine(db_url)
    try:
        assert await upgrade(engine) == ("0006", head_revision())
    finally:
        await engine.dispose()

    app = await at(utc(2025, 2, 10, 10))
    # Open decisions: midnight UTC on the due date, before any nag under any policy.
    assert await _states(app) == {
        1: (None, None),
        2: (None, None),
        3: (utc(2025, 1, 31), None),
        4: (utc(2025, 9, 30), None),  # 0007's bound; init clears it (a passing kind)
        5: (None, None),
        6: (utc(2025, 6, 2), None),
    }

    # `tracker init` re-plans every contract: exact times. The -7 nag was planned already.
    assert await refresh_all(app) == 1
    exact = await _states(app)
    assert exact[3] == (utc(2025, 2, 14, 9), 7)
    assert exact[4] == (None, None)
    assert exact[6] == (utc(2025, 6, 9, 8), 7)
    assert (exact[1], exact[2], exact[5]) == ((None, None),) * 3
    assert await sweep_nags(app) == 0
    assert await _states(app) == exact


async def test_without_init_the_sweep_works_out_the_bound_itself(db_url: str, at: AppAt) -> None:
    await _at_0006_with_data(db_url)
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()

    # At Mon 17 Feb the funding decision's -14 nag (Fri 14 Feb) is due: planned, and the
    # next time is exact. The decisions still to come keep their bound until their day.
    app = await at(utc(2025, 2, 17, 10))
    assert await sweep_nags(app) == 2
    assert await nag_rows(app, FUNDING) == both(-7) + both(-14)
    states = await _states(app)
    assert states[3] == (utc(2025, 2, 21, 9), 7)
    assert states[6] == (utc(2025, 6, 2), None)
    assert await sweep_nags(app) == 0

    # And once a bound's day has come, the sweep makes it exact without a nag.
    june = await at(utc(2025, 6, 2, 10))
    await sweep_nags(june)
    assert (await _states(june))[6] == (utc(2025, 6, 9, 8), 7)


async def test_downgrading_0007_keeps_every_reminder(
    db_url: str, at: AppAt, contract: Build
) -> None:
    """On SQLite a batch-mode downgrade would copy the milestones table and cascade the
    drop of the old copy to every reminder; 0007 drops its columns in place."""
    await add_contracts(await at(NOW), [contract()])
    assert await sweep_nags(await at(utc(2025, 2, 7, 9))) == 2
    engine = create_engine(db_url)
    count = "SELECT count(*) FROM reminders"
    try:
        async with engine.connect() as conn:
            before = (await conn.execute(text(count))).scalar()
        async with engine.begin() as conn:
            await conn.run_sync(_alembic("0006", "downgrade"))
        async with engine.connect() as conn:
            assert (await conn.execute(text(count))).scalar() == before
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("milestones")}
            )
        assert "next_nag_at" not in columns and "snoozed_until" in columns
        assert await upgrade(engine) == ("0006", head_revision())
    finally:
        await engine.dispose()
