"""Nags: the weekly reminders about a decision that is overdue and still open.

Two halves that must agree: :func:`nag_schedule` says when the sweep next has to look
at a milestone (``milestones.next_nag_at``, kept by every re-plan), and :func:`plan_nags`
(run by each sweep) inserts the nags whose time has come, reading only the milestones
whose time has come, by index range scans.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import CompoundSelect, Integer, Table, bindparam, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.reminders import (
    ReminderPolicy,
    latest_nag,
    mail_domain,
    nag_count,
    next_nag_at,
    planned_nags,
    released_through,
    reminders_for,
)
from tracker.domain.types import PASSING_KINDS, MilestoneKind, MilestoneStatus
from tracker.policy import Policy
from tracker.service.app import App
from tracker.service.reminders.policy import contract_policy
from tracker.store.filters import one_of
from tracker.store.models import ContractPolicyRow, ContractRow, MilestoneRow, ReminderRow
from tracker.store.outbox import planned_reminder
from tracker.store.types import UTCDateTime

Key = tuple[int, date, int, str]

#: Kinds that can be nagged: those still open to action once their day has passed.
DECISION_KINDS = tuple(kind for kind in MilestoneKind if kind not in PASSING_KINDS)


def _to_look_at(app: App) -> CompoundSelect[int]:
    """Ids of the milestones the sweep must look at for nags: those whose next nag time
    has come, and those worked out under another default interval than the one configured
    now (for their kind). Each arm is a range scan on its own index, so an idle sweep
    reads nothing however many decisions are overdue; the second and third find nothing
    while the policy stands."""
    arms = [select(MilestoneRow.id).where(MilestoneRow.next_nag_at <= app.now)]
    kinds: dict[int, list[str]] = {}
    for kind in DECISION_KINDS:
        kinds.setdefault(app.policy.reminder_rule(kind).nag_days, []).append(kind.value)
    for days, same in sorted(kinds.items()):
        stamped = MilestoneRow.nag_default_days
        arms.append(select(MilestoneRow.id).where(MilestoneRow.kind.in_(same), stamped < days))
        arms.append(select(MilestoneRow.id).where(MilestoneRow.kind.in_(same), stamped > days))
    return union_all(*arms)


_MILESTONES = cast(Table, MilestoneRow.__table__)

#: A milestone's new (next_nag_at, nag_default_days), written only if the row still has
#: the values it was worked out from (a change committed meanwhile wins).
_MOVE = (
    _MILESTONES.update()
    .where(
        _MILESTONES.c.id == bindparam("m_id"),
        _MILESTONES.c.next_nag_at.is_not_distinct_from(bindparam("old_next", type_=UTCDateTime())),
        _MILESTONES.c.nag_default_days.is_not_distinct_from(
            bindparam("old_default", type_=Integer())
        ),
    )
    .values(
        next_nag_at=bindparam("new_next", type_=UTCDateTime()),
        nag_default_days=bindparam("new_default", type_=Integer()),
    )
)


def _latest_nag_rows(
    app: App,
    milestone: MilestoneRow,
    rule: ReminderPolicy,
    *,
    owner: str | None,
    sponsor: str | None,
    contract_end: date,
    stored: set[tuple[int, str]],
) -> list[ReminderRow]:
    """The milestone's latest nag, one row per recipient, if it is due and some recipient
    has no row for it yet (those that have are left be by the insert); ``stored`` gains
    the (lead, recipient) of the rows returned."""
    count = nag_count(MilestoneKind(milestone.kind), milestone.due, rule, contract_end)
    nag = latest_nag(milestone.due, rule.nag_days, app.today, count=count)
    if nag is None or nag[1] > app.now:
        return []
    lead, send_at = nag
    planned = reminders_for(lead, send_at, rule, owner, sponsor)
    if all((lead, p.recipient) in stored for p in planned):
        return []
    stored.update((lead, p.recipient) for p in planned)
    domain = mail_domain(app.settings.mail_from)
    return [planned_reminder(milestone, p, domain=domain, now=app.now) for p in planned]


async def _overrides(
    session: AsyncSession, dialect: str, contract_ids: list[int]
) -> dict[int, list[ContractPolicyRow]]:
    """The contracts' own policy rows, by contract id."""
    found = await session.scalars(
        select(ContractPolicyRow).where(
            one_of(dialect, ContractPolicyRow.contract_id, contract_ids, Integer())
        )
    )
    overrides: dict[int, list[ContractPolicyRow]] = {}
    for p in found:
        overrides.setdefault(p.contract_id, []).append(p)
    return overrides


async def _stored_nags(
    session: AsyncSession, dialect: str, milestone_ids: list[int]
) -> dict[tuple[int, date], set[tuple[int, str]]]:
    """The (lead, recipient) of the nag rows kept, by (milestone id, due date)."""
    columns = (
        ReminderRow.milestone_id,
        ReminderRow.milestone_due,
        ReminderRow.lead,
        ReminderRow.recipient,
    )
    of_these = one_of(dialect, ReminderRow.milestone_id, milestone_ids, Integer())
    stored: dict[tuple[int, date], set[tuple[int, str]]] = {}
    for mid, due, lead, recipient in await session.execute(
        select(*columns).where(of_these, ReminderRow.lead < 0)
    ):
        stored.setdefault((mid, due), set()).add((lead, recipient))
    return stored


async def _nag_work(
    session: AsyncSession, app: App
) -> tuple[list[ReminderRow], list[dict[str, Any]]]:
    """The nag rows due now, and the new next nag times of the milestones looked at.

    Only milestones whose ``next_nag_at`` has come (or that were worked out under another
    configuration) are read, by index range scans: an idle sweep does not grow with the
    number of overdue decisions. For those the rule is ``latest_nag``'s, in Python.
    """
    rows = (
        await session.execute(
            select(MilestoneRow, ContractRow.owner, ContractRow.sponsor, ContractRow.end_date)
            .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
            .where(MilestoneRow.id.in_(_to_look_at(app)))
            .order_by(MilestoneRow.id)
        )
    ).all()
    if not rows:
        return [], []
    dialect = session.get_bind().dialect.name
    overrides = await _overrides(session, dialect, sorted({row[0].contract_id for row in rows}))
    stored = await _stored_nags(session, dialect, [row[0].id for row in rows])
    released = released_through(app.now)
    nags: list[ReminderRow] = []
    moves: list[dict[str, Any]] = []
    for milestone, owner, sponsor, end in rows:
        policies = overrides.get(milestone.contract_id, [])
        mine = stored.setdefault((milestone.id, milestone.due), set())
        kind = MilestoneKind(milestone.kind)
        held = milestone.snoozed_until is not None and milestone.snoozed_until > released
        if milestone.status == MilestoneStatus.OPEN.value and kind in DECISION_KINDS and not held:
            rule = contract_policy(app.policy, policies, kind)
            nags += _latest_nag_rows(
                app, milestone, rule, owner=owner, sponsor=sponsor, contract_end=end, stored=mine
            )
        new = nag_schedule(milestone, app.policy, policies, owner, sponsor, mine, contract_end=end)
        old = (milestone.next_nag_at, milestone.nag_default_days)
        if new != old:
            moves.append(_move(milestone.id, old=old, new=new))
    return nags, moves


def _move(
    milestone_id: int,
    *,
    old: tuple[datetime | None, int | None],
    new: tuple[datetime | None, int | None],
) -> dict[str, Any]:
    """The parameters of ``_MOVE`` for one milestone."""
    return {
        "m_id": milestone_id,
        "old_next": old[0],
        "old_default": old[1],
        "new_next": new[0],
        "new_default": new[1],
    }


async def nags_due(session: AsyncSession, app: App) -> list[ReminderRow]:
    """Nag rows for overdue open decisions (not snoozed), one per recipient: the latest
    nag only, so nags missed while the tracker was down collapse into one.

    Decisions whose latest nag is planned already (for each of its recipients) are left
    out. Changes nothing (``tracker send --dry-run`` previews with this).
    """
    nags, _ = await _nag_work(session, app)
    return nags


async def plan_nags(session: AsyncSession, app: App) -> int:
    """Insert the due nags; a nag already planned (by us or another instance) is left be.
    The milestones looked at get their next nag time, in the same transaction."""
    nags, moves = await _nag_work(session, app)
    columns = [c.key for c in ReminderRow.__table__.columns if c.key != "id"]
    values = [{key: getattr(nag, key) for key in columns} for nag in nags]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = 0
    for start in range(0, len(values), 500):
        statement = (
            insert(ReminderRow)
            .values(values[start : start + 500])
            .on_conflict_do_nothing(
                index_elements=["milestone_id", "milestone_due", "lead", "recipient"]
            )
        )
        result = await session.execute(statement)
        inserted += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    if moves:
        await session.execute(_MOVE, moves)
    await session.commit()
    return inserted


class Nagged(Protocol):
    """What the nag schedule reads of a milestone (a MilestoneRow, or bench rows)."""

    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def snoozed_until(self) -> date | None: ...


def nag_schedule(
    milestone: Nagged,
    policy: Policy,
    overrides: Sequence[ContractPolicyRow],
    owner: str | None,
    sponsor: str | None,
    stored: Collection[tuple[int, str]],
    *,
    contract_end: date,
) -> tuple[datetime | None, int | None]:
    """(``next_nag_at``, ``nag_default_days``) for a milestone as it stands.

    ``stored`` holds the (lead, recipient) of the nag rows kept for its current due date;
    a nag counts as planned when every recipient it goes to has one. None once the
    milestone's nags (``nag_count``: ``max_nags``, fewer if the contract's end closes it
    first) are all planned. The one place these two columns are worked out:
    re-planning (every change to a contract or milestone) and the sweep (after planning
    a nag) both call this.
    """
    kind = MilestoneKind(milestone.kind)
    if milestone.status != MilestoneStatus.OPEN.value or kind in PASSING_KINDS:
        return None, None
    rule = contract_policy(policy, overrides, kind)
    own = any(p.kind == kind.value and p.nag_days is not None for p in overrides)
    default = None if own else policy.reminder_rule(kind).nag_days
    if not (owner or sponsor):
        return None, default  # nobody to nag; a new owner comes with a re-plan
    planned = planned_nags(stored, rule, owner, sponsor)
    count = nag_count(kind, milestone.due, rule, contract_end)
    at = next_nag_at(milestone.due, rule.nag_days, milestone.snoozed_until, planned, count=count)
    return at, default


def schedule_nags(row: ContractRow, policy: Policy, existing: Iterable[Key]) -> None:
    """Keep each milestone's next nag time in step with its due date, status, snooze,
    policy and people, from the nag rows the contract has."""
    stored: dict[tuple[int, date], set[tuple[int, str]]] = {}
    for milestone_id, due, lead, recipient in existing:
        if lead < 0:
            stored.setdefault((milestone_id, due), set()).add((lead, recipient))
    for milestone in row.milestones:
        mine = stored.get((milestone.id, milestone.due), set())
        value = nag_schedule(
            milestone, policy, row.policies, row.owner, row.sponsor, mine, contract_end=row.end_date
        )
        if (milestone.next_nag_at, milestone.nag_default_days) != value:
            milestone.next_nag_at, milestone.nag_default_days = value
