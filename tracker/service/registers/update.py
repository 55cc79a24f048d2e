"""``tracker import FILE --update``: keep the tracker in step with a register kept elsewhere.

Contracts whose ref exists are updated, the others added, all in one transaction.
Only the fields the file gives are compared (a YAML record's keys, a CSV's columns);
the others are left as they are. A contract's own fields (title, dates, value, people,
notes...) are set here; its funding and cost lines and extension options are added,
changed or removed as their own commands would (see ``update_lines``); its decisions,
manual milestones and policy have commands of their own, so a file that differs there
is refused with the command to use rather than guessed at. Each updated contract is
re-derived and re-planned like any change, and the report says, per contract, each
field's (and line's) old and new value and what moved, appeared, was done or was
cancelled among its milestones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_uk
from tracker.domain.types import EventKind, MilestoneStatus, Regime
from tracker.domain.wording import shown_value
from tracker.errors import DuplicateContract, InvalidOperation, InvalidValue
from tracker.service.app import App
from tracker.service.contracts import check_unique_refs, contract_row, refresh
from tracker.service.derive import record_event
from tracker.service.registers.bulk import Progress, save_new_contracts
from tracker.service.registers.inputs import (
    CONTRACT_COLUMNS,
    ContractInput,
    check_extensions,
    check_regime,
)
from tracker.service.registers.read import Record
from tracker.service.registers.update_lines import FieldChange, apply_lines
from tracker.store.models import ContractRow, WatcherRow


@dataclass(frozen=True)
class ContractUpdate:
    """One contract the file changes: its fields (old -> new) and milestone effects."""

    ref: str
    changes: tuple[FieldChange, ...]
    milestones: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    added: tuple[str, ...]
    updated: tuple[ContractUpdate, ...]
    unchanged: int
    milestones: int
    dry_run: bool


#: What to run instead when a file's decisions, milestones or policy differ from the
#: stored ones (funding, costs and options are applied: see update_lines).
COMMANDS = {
    "decisions": "tracker decision add",
    "milestones": "tracker milestone add",
    "policy": "tracker policy",
}


def _check_collections(row: ContractRow, data: ContractInput, given: frozenset[str]) -> None:
    for name, command in COMMANDS.items():
        if name not in given:
            continue
        if name == "decisions":
            stored = sorted((d.ref, d.decided_on) for d in row.decisions)
            if stored == sorted((d.ref, d.decided_on) for d in data.decisions):
                continue
        elif not getattr(data, name):
            continue
        raise InvalidOperation(
            f"{row.ref}: {name} in the file differ from the tracker's; import --update "
            f"changes a contract's own fields, lines and options (use {command})"
        )


def _apply(row: ContractRow, data: ContractInput, given: frozenset[str]) -> list[FieldChange]:
    """Set each given field that differs; returns the changes (nothing checked yet)."""
    changes = []
    for name, attribute in CONTRACT_COLUMNS.items():
        if name not in given:
            continue
        old, new = getattr(row, attribute), getattr(data, name)
        if old != new:
            changes.append(FieldChange(field=name, old=shown_value(old), new=shown_value(new)))
            setattr(row, attribute, new)
    if "watchers" in given:
        old_watchers = tuple(w.email for w in row.watchers)
        if sorted(old_watchers) != sorted(data.watchers):
            watchers = shown_value(old_watchers), shown_value(data.watchers)
            changes.append(FieldChange(field="watchers", old=watchers[0], new=watchers[1]))
            row.watchers = [WatcherRow(email=email) for email in data.watchers]
    return changes


def _check_dates(row: ContractRow) -> None:
    """The updated contract must still be valid (the same rules as ``add``)."""
    if row.end_date < row.start_date:
        shown_start = row.start_date.isoformat()
        raise InvalidValue(
            "end", row.end_date.isoformat(), f"is before the start ({shown_start})", where=row.ref
        )
    from tracker.service.registers.inputs import ExtensionInput

    pending = tuple(
        ExtensionInput(until=e.until, notice_days=e.notice_days, notice_by=e.notice_by)
        for e in row.extensions
        if e.status == "available"
    )
    try:
        check_extensions(row.end_date, pending)
        check_regime(Regime(row.regime), row.entered_into)
    except InvalidValue as exc:
        raise exc.located(row.ref) from None


Snapshot = dict[tuple[str, str], tuple[date, str]]


def _snapshot(row: ContractRow) -> Snapshot:
    return {(m.kind, m.key): (m.due, m.status) for m in row.milestones}


def milestone_effects(before: Snapshot, after: Snapshot) -> list[str]:
    """``contract_end moved 31 Mar 2025 -> 31 Mar 2026``, ``... added``, ``... cancelled``."""
    effects = []
    open_ = MilestoneStatus.OPEN.value
    for ident, (due, status) in sorted(after.items(), key=lambda item: item[1][0]):
        kind = ident[0]
        if ident not in before:
            effects.append(f"{kind} added, due {format_uk(due)}")
            continue
        old_due, old_status = before[ident]
        if old_due != due:
            effects.append(f"{kind} moved {format_uk(old_due)} -> {format_uk(due)}")
        elif old_status == open_ and status == MilestoneStatus.CANCELLED.value:
            effects.append(f"{kind} cancelled (was due {format_uk(due)})")
        elif old_status == open_ and status == MilestoneStatus.DONE.value:
            effects.append(f"{kind} done (was due {format_uk(due)})")
        elif old_status != open_ and status == open_:
            effects.append(f"{kind} open again, due {format_uk(due)}")
    return effects


async def _update_one(
    session: AsyncSession, row: ContractRow, record: Record, app: App, source: str
) -> ContractUpdate | None:
    data, given = record
    _check_collections(row, data, given)
    before = _snapshot(row)
    changes = _apply(row, data, given)
    if changes:
        listed = "; ".join(f"{c.field} {c.old} -> {c.new}" for c in changes)
        detail = f"{row.ref}: {listed} ({source})"
        session.add(record_event(row, EventKind.CONTRACT_UPDATED, detail, app.now))
    try:
        changes += await apply_lines(session, row, data, given, app)
    except InvalidValue as exc:
        raise exc.located(f"{source} {row.ref}") from None
    if not changes:
        return None
    _check_dates(row)
    row.updated_at = app.now
    await refresh(session, row, app)
    effects = milestone_effects(before, _snapshot(row))
    return ContractUpdate(ref=row.ref, changes=tuple(changes), milestones=tuple(effects))


async def _stored(session: AsyncSession, refs: Sequence[str]) -> dict[str, ContractRow]:
    found: dict[str, ContractRow] = {}
    for start in range(0, len(refs), 500):
        chunk = list(refs[start : start + 500])
        statement = select(ContractRow).where(ContractRow.ref.in_(chunk)).with_for_update()
        found.update((row.ref, row) for row in (await session.execute(statement)).scalars())
    return found


async def import_update(
    app: App,
    records: Sequence[Record],
    *,
    source: str,
    update: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Update the contracts the file names that exist, add the others: all or nothing.
    Without ``update`` an existing ref is an error (plain ``tracker import``)."""
    check_unique_refs([data for data, _ in records])
    tick: Callable[[int], None] = progress or (lambda _: None)
    async with app.session() as session:
        stored = await _stored(session, [data.ref for data, _ in records])
        if stored and not update:
            raise DuplicateContract(next(d.ref for d, _ in records if d.ref in stored))
        updated: list[ContractUpdate] = []
        for record in records:
            row = stored.get(record[0].ref)
            if row is not None:
                change = await _update_one(session, row, record, app, source)
                updated.extend([change] if change else [])
                tick(1)
        new = [data for data, _ in records if data.ref not in stored]
        milestones = await save_new_contracts(session, new, app, contract_row, progress)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return ImportResult(
        added=tuple(c.ref for c in new),
        updated=tuple(updated),
        unchanged=len(stored) - len(updated),
        milestones=milestones,
        dry_run=dry_run,
    )
