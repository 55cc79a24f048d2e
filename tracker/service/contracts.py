"""Use cases that change contracts: each loads, changes, re-derives and saves in one transaction.

If anything fails nothing is written: a transaction either commits whole or rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_uk
from tracker.domain.milestones import next_option, option_key, publication_due
from tracker.domain.money import format_gbp
from tracker.domain.types import (
    EventKind,
    ExtensionStatus,
    FundingStatus,
    MilestoneKind,
    MilestoneStatus,
    Regime,
)
from tracker.errors import DuplicateContract, InvalidOperation, InvalidValue, UnknownContract
from tracker.service.app import App
from tracker.service.derive import record_event
from tracker.service.milestones import new_manual_milestone
from tracker.service.registers.bulk import Progress, save_new_contracts
from tracker.service.registers.inputs import (
    NOT_UNDER_THE_ACT,
    ContractInput,
    CostInput,
    DecisionInput,
    ExtensionInput,
    FundingInput,
    MilestoneInput,
    PolicyInput,
    VariationInput,
)
from tracker.service.reminders.plan import refresh_contract
from tracker.service.reminders.policy import contract_policy
from tracker.service.variations import apply_variation
from tracker.store.domain_rows import to_domain
from tracker.store.models import (
    ContractPolicyRow,
    ContractRow,
    CostRow,
    DecisionRow,
    ExtensionRow,
    FundingRow,
    WatcherRow,
    cost_id,
    funding_id,
)
from tracker.store.rows import Build, orm_row, shared_columns


async def load_contract(
    session: AsyncSession, ref: str, *, for_update: bool = False
) -> ContractRow:
    statement = select(ContractRow).where(ContractRow.ref == ref)
    if for_update:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise UnknownContract(ref)
    return row


async def _existing_refs(session: AsyncSession, refs: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = list(refs[start : start + 500])
        result = await session.execute(select(ContractRow.ref).where(ContractRow.ref.in_(chunk)))
        found.update(result.scalars())
    return found


def contract_row(data: ContractInput, app: App, build: Build = orm_row) -> ContractRow:
    """A new contract's row with its watchers, options, lines, policy and decisions.
    ``build`` makes each row from its model and values (the bulk import's plain rows)."""
    now = app.now
    values = shared_columns(data, ContractRow)
    values |= {"start_date": data.start, "end_date": data.end, "original_end": data.end}
    row: ContractRow = build(ContractRow, values | {"created_at": now, "updated_at": now})
    row.watchers = [build(WatcherRow, {"email": email}) for email in data.watchers]
    row.extensions = [
        extension_row(option, index + 1, build) for index, option in enumerate(data.extensions)
    ]
    row.funding = [
        _funding_row(line, str(index + 1), build) for index, line in enumerate(data.funding)
    ]
    row.costs = [_cost_row(cost, build) for cost in data.costs]
    row.milestones = []
    row.policies = [policy_row(entry, build) for entry in data.policy]
    row.decisions = [decision_row(d, now, build) for d in data.decisions]
    return row


def extension_row(option: ExtensionInput, seq: int, build: Build = orm_row) -> ExtensionRow:
    """A contract's ``seq``-th extension option, available (``add``, ``import --update``)."""
    values = shared_columns(option, ExtensionRow) | {"seq": seq}
    row: ExtensionRow = build(ExtensionRow, values | {"status": ExtensionStatus.AVAILABLE.value})
    return row


def decision_row(decision: DecisionInput, now: datetime, build: Build = orm_row) -> DecisionRow:
    values = shared_columns(decision, DecisionRow) | {"created_at": now}
    row: DecisionRow = build(DecisionRow, values)
    return row


def policy_row(entry: PolicyInput, build: Build = orm_row) -> ContractPolicyRow:
    leads = ",".join(str(v) for v in entry.leads) if entry.leads is not None else None
    values = {"kind": entry.kind.value, "leads": leads, "escalate_from": entry.escalate_from}
    row: ContractPolicyRow = build(
        ContractPolicyRow, values | {"nag_days": entry.nag_days, "max_nags": entry.max_nags}
    )
    return row


def _funding_row(line: FundingInput, key: str, build: Build = orm_row) -> FundingRow:
    values = {"key": key, "source": line.source, "year": line.year.start_year}
    values |= {"amount": line.amount, "status": line.status.value}
    row: FundingRow = build(FundingRow, values | {"confirm_by": line.confirm_by})
    return row


def _cost_row(cost: CostInput, build: Build = orm_row) -> CostRow:
    values = {"year": cost.year.start_year, "category": cost.category, "amount": cost.amount}
    row: CostRow = build(CostRow, values)
    return row


async def refresh(session: AsyncSession, row: ContractRow, app: App) -> None:
    """Re-derive milestones and re-plan reminders in the caller's transaction."""
    await refresh_contract(session, row, app.policy, app.now, app.settings.mail_from)


def check_unique_refs(contracts: Sequence[ContractInput]) -> None:
    seen: set[str] = set()
    for index, contract in enumerate(contracts):
        if contract.ref in seen:
            raise DuplicateContract(contract.ref, where=f"contracts[{index}]")
        seen.add(contract.ref)


@dataclass(frozen=True)
class AddResult:
    refs: tuple[str, ...]
    milestones: int
    dry_run: bool


async def add_contracts(
    app: App,
    contracts: Sequence[ContractInput],
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> AddResult:
    """Add one or many contracts, all or nothing. ``dry_run`` does everything but commit;
    ``progress`` hears how many contracts each batch wrote."""
    check_unique_refs(contracts)
    async with app.session() as session:
        taken = await _existing_refs(session, [c.ref for c in contracts])
        for contract in contracts:
            if contract.ref in taken:
                raise DuplicateContract(contract.ref)
        milestones = await save_new_contracts(session, contracts, app, contract_row, progress)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return AddResult(refs=tuple(c.ref for c in contracts), milestones=milestones, dry_run=dry_run)


async def _change(
    app: App, ref: str, kind: EventKind, detail: str, session: AsyncSession, row: ContractRow
) -> None:
    row.updated_at = app.now
    session.add(record_event(row, kind, detail, app.now))
    await refresh(session, row, app)
    await session.commit()


def _next_option(row: ContractRow) -> tuple[ExtensionRow, str] | None:
    """The stored option a decision is due on now (the domain's rule), and its notice key."""
    option = next_option(to_domain(row))
    if option is None:
        return None
    stored = next(e for e in row.extensions if e.seq == option.seq)
    return stored, option_key(option)


async def extend(app: App, ref: str, *, decline: bool = False) -> str:
    """Activate (or decline) the next available extension option; returns what happened."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        found = _next_option(row)
        if found is None:
            raise InvalidOperation(f"ref: {ref!r} has no available extension option")
        option, key = found
        notice_kind = MilestoneKind.EXTENSION_NOTICE.value
        notice = next(
            (m for m in row.milestones if m.kind == notice_kind and m.key == key),
            None,
        )
        if decline:
            option.status = ExtensionStatus.DECLINED.value
            summary = f"{ref}: extension to {format_uk(option.until)} declined; plan the exit before {format_uk(row.end_date)}"
        else:
            option.status = ExtensionStatus.ACTIVATED.value
            previous_end = row.end_date
            taken = VariationInput(
                ref_no=f"Extension option {option.seq}",
                dated=app.today,
                end=option.until,
                value=None,
                note=None,
            )
            variation, _ = apply_variation(row, taken, actor=app.actor, now=app.now)
            session.add(variation)
            summary = f"{ref}: extension activated, end moved from {format_uk(previous_end)} to {format_uk(option.until)}"
        option.decided_at = app.now
        if notice is not None and notice.status == MilestoneStatus.OPEN.value:
            notice.status = MilestoneStatus.DONE.value
            notice.closed_at = notice.updated_at = app.now
            notice.closed_note = "extension declined" if decline else "extension activated"
            done = (
                f"{ref}: extension_notice due {format_uk(notice.due)} done ({notice.closed_note})"
            )
            event = record_event(row, EventKind.MILESTONE_DONE, done, app.now, milestone=notice)
            session.add(event)
        await _change(
            app,
            ref,
            EventKind.EXTENSION_DECLINED if decline else EventKind.EXTENSION_ACTIVATED,
            summary,
            session,
            row,
        )
    return summary


def append_funding(row: ContractRow, line: FundingInput) -> tuple[EventKind, str]:
    """A new funding line on a loaded contract, keyed after its others (``funding add``
    and ``import --update``); returns the event to log. The caller re-derives."""
    keys = [int(f.key) for f in row.funding if f.key.isdigit()]
    added = _funding_row(line, str(max(keys, default=0) + 1))
    row.funding.append(added)
    detail = f"{row.ref}: funding {funding_id(added)} {line.source} {line.year} {format_gbp(line.amount)} ({line.status.value})"
    kind = (
        EventKind.FUNDING_CONFIRMED
        if line.status in (FundingStatus.CONFIRMED, FundingStatus.RECEIVED)
        else EventKind.FUNDING_ADDED
    )
    return kind, detail


async def append_cost(session: AsyncSession, row: ContractRow, cost: CostInput) -> str:
    """A new cost line on a loaded contract (``cost add`` and ``import --update``);
    returns the event's detail. The caller re-derives."""
    added = _cost_row(cost)
    row.costs.append(added)
    await session.flush()  # its id names it: C7
    label = f" {cost.category}" if cost.category else ""
    return f"{row.ref}: cost {cost_id(added)} {cost.year}{label} {format_gbp(cost.amount)}"


async def add_funding(app: App, ref: str, line: FundingInput) -> str:
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        kind, detail = append_funding(row, line)
        await _change(app, ref, kind, detail, session, row)
    return detail


async def add_cost(app: App, ref: str, cost: CostInput) -> str:
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        detail = await append_cost(session, row, cost)
        await _change(app, ref, EventKind.COST_ADDED, detail, session, row)
    return detail


async def add_milestone(app: App, ref: str, milestone: MilestoneInput) -> str:
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        if milestone.kind == MilestoneKind.CHANGE_NOTICE and row.regime != Regime.PA2023:
            reason = f"{NOT_UNDER_THE_ACT}; {ref} is {row.regime}"
            raise InvalidValue("KIND", milestone.kind.value, reason)
        added = new_manual_milestone(row, milestone, app.now)
        row.milestones.append(added)
        await session.flush()
        detail = f"{ref}: {added.kind} due {format_uk(added.due)} added (id {added.id})"
        event = record_event(row, EventKind.MILESTONE_ADDED, detail, app.now, milestone=added)
        session.add(event)
        await refresh(session, row, app)
        await session.commit()
    return detail


async def set_policy(app: App, ref: str, entry: PolicyInput) -> str:
    """Give a contract its own reminder policy for one kind; reminders are re-planned."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        current = next((p for p in row.policies if p.kind == entry.kind.value), None)
        if current is None:
            current = policy_row(entry)
            row.policies.append(current)
        else:
            if entry.leads is not None:
                current.leads = ",".join(str(v) for v in entry.leads)
            if entry.escalate_from is not None:
                current.escalate_from = entry.escalate_from
            if entry.nag_days is not None:
                current.nag_days = entry.nag_days
            if entry.max_nags is not None:
                current.max_nags = entry.max_nags
        rule = contract_policy(app.policy, row.policies, entry.kind)
        leads = ", ".join(str(v) for v in rule.leads) or "none"
        nags = (
            f"nag every {rule.nag_days} days, at most {rule.max_nags} times"
            if rule.nag_days
            else "no nags"
        )
        detail = (
            f"{ref}: {entry.kind.value} reminders at {leads} days before, sponsor copied from "
            f"{rule.escalate_from} days, {nags}"
        )
        await _change(app, ref, EventKind.POLICY_SET, detail, session, row)
    return detail


async def add_decision(app: App, ref: str, decision: DecisionInput) -> str:
    """Store a decision record; its publication milestone is derived in the same change."""
    async with app.session() as session:
        row = await load_contract(session, ref, for_update=True)
        if any(d.ref == decision.ref for d in row.decisions):
            raise InvalidOperation(f"--id: {decision.ref!r} is already a decision on {ref}")
        row.decisions.append(decision_row(decision, app.now))
        due = publication_due(decision.decided_on, decision.publish_within_working_days)
        detail = (
            f"{ref}: decision {decision.ref} of {format_uk(decision.decided_on)} recorded; "
            f"publish by {format_uk(due)}"
        )
        await _change(app, ref, EventKind.DECISION_ADDED, detail, session, row)
    return detail


async def refresh_all(app: App, *, batch: int = 200) -> int:
    """Re-derive milestones and re-plan reminders of every contract, in batches.

    Run after a schema upgrade: contracts stored by an older version (before reminders
    existed, or under older rules) get their milestones and reminders brought up to
    date, so no open decision is left without its warnings. Idempotent.
    """
    async with app.session() as session:
        ids = list(
            (await session.execute(select(ContractRow.id).order_by(ContractRow.id))).scalars()
        )
    for start in range(0, len(ids), batch):
        async with app.session() as session:
            rows = (
                await session.execute(
                    select(ContractRow).where(ContractRow.id.in_(ids[start : start + batch]))
                )
            ).scalars()
            for row in rows:
                await refresh(session, row, app)
            await session.commit()
    return len(ids)
