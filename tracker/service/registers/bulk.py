"""New contracts in batches: what ``tracker add`` writes for one, for thousands at once.

The rows are the same as one contract at a time would give (the contract and its
lines, the derived and manual milestones, the "added" event, the planned reminders and
each milestone's next nag time, all from the same rules); only the writing differs:
one executemany per table and batch (the ids of contracts and milestones, which their
children need, read back by unique key), the reminders (the most rows) included, the
way the sweep inserts its nags.
Importing the benchmark's 10,000 contracts this way takes seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.types import EventKind
from tracker.service.app import App
from tracker.service.derive import record_event, sync_milestones
from tracker.service.milestones import new_manual_milestone
from tracker.service.registers.inputs import ContractInput
from tracker.service.reminders.nags import schedule_nags
from tracker.service.reminders.plan import first_plan
from tracker.store.bulk_insert import PlainRow, ids_by_key, insert_many, widen_cache
from tracker.store.models import ContractRow, ReminderRow
from tracker.store.rows import Build

#: Contracts per batch: big enough that each flush is a few executemany calls, small
#: enough that a progress bar moves.
BATCH = 500

Progress = Callable[[int], None]
MakeRow = Callable[[ContractInput, App, Build], ContractRow]


async def save_new_contracts(
    session: AsyncSession,
    contracts: Sequence[ContractInput],
    app: App,
    make_row: MakeRow,
    progress: Progress | None = None,
) -> int:
    """Write new contracts in the caller's transaction; returns how many milestones they
    got. ``make_row`` builds a contract's row with its lines (the one home of that rule);
    ``progress`` is told how many contracts each batch wrote."""
    milestones = 0
    if len(contracts) > BATCH:
        await widen_cache(session)
    for start in range(0, len(contracts), BATCH):
        batch = contracts[start : start + BATCH]
        milestones += await _save_batch(session, batch, app, make_row)
        if progress is not None:
            progress(len(batch))
    return milestones


#: The unique columns that tell apart the rows whose ids are read back.
KEYS = {"contracts": ("ref",), "milestones": ("contract_id", "kind", "key")}

#: A new contract's child rows, by relationship name: each gets the contract's id.
CHILDREN = ("watchers", "extensions", "funding", "costs", "policies", "decisions")


def _values(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [row.values() for row in rows]


async def _insert(session: AsyncSession, rows: Sequence[Any]) -> None:
    """One executemany of new plain rows of one table."""
    if rows:
        await insert_many(session, rows[0].__table__, _values(rows))


async def _insert_with_ids(session: AsyncSession, rows: Sequence[Any]) -> None:
    """New rows of one table that need their ids back: one executemany, then the ids
    read back by each row's unique key."""
    if not rows:
        return
    table: Table = rows[0].__table__
    values = _values(rows)
    await insert_many(session, table, values)
    names = KEYS[table.name]
    ids = await ids_by_key(session, table, names, values)
    for row in rows:
        row.id = ids[tuple(getattr(row, name) for name in names)]


def _event(row: Any, app: App) -> Any:
    """The "added" event, as ``add`` records it, with its actor (no flush stamps it
    here: see tracker.store.audit)."""
    detail = f"{row.ref} added: {row.title}"
    event = record_event(row, EventKind.CONTRACT_ADDED, detail, app.now, build=PlainRow)
    event.actor = app.actor
    return event


async def _save_batch(
    session: AsyncSession, batch: Sequence[ContractInput], app: App, make_row: MakeRow
) -> int:
    """The rows are built by the same code as one ``add``, as plain rows (no ORM
    instrumentation, never in a session: a flush would insert them one at a time)."""
    now, policy = app.now, app.policy
    rows: list[Any] = [make_row(data, app, PlainRow) for data in batch]
    await _insert_with_ids(session, rows)
    milestones: list[Any] = []
    for row, data in zip(rows, batch, strict=True):
        for name in CHILDREN:
            for child in getattr(row, name):
                child.contract_id = row.id
        row.milestones.extend(new_manual_milestone(row, m, now, PlainRow) for m in data.milestones)
        sync_milestones(row, policy.derivation, now, PlainRow)  # new: no event but "added"
        schedule_nags(row, policy, ())  # nag times go in with the milestones
        milestones.extend(row.milestones)
    for name in CHILDREN:
        await _insert(session, [child for row in rows for child in getattr(row, name)])
    await _insert_with_ids(session, milestones)
    await _insert(session, [_event(row, app) for row in rows])
    reminders = [
        values for row in rows for values in first_plan(row, policy, now, app.settings.mail_from)
    ]
    if reminders:
        table: Table = ReminderRow.__table__  # type: ignore[assignment]
        await insert_many(session, table, reminders)
    return len(milestones)
