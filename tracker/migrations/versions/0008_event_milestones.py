"""change-log events name their milestone; the installation gets an identity

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000

``contract_events.milestone_id``: the milestone an event concerns, so the calendar
counts a milestone's changes (its SEQUENCE) by id instead of by the wording of the log.
``installation``: one row with a random id, so calendar UIDs differ between two
databases.

Backfill: earlier releases wrote the milestone into the detail text only; it is
recovered from the texts they wrote (``derive`` and the milestone commands):

* ``contract_end moved from 2025-03-31 to 2026-03-31``: the milestone of that kind on
  the contract that was due on the later date at the time. The log is replayed from
  the newest entry back, undoing each move, so siblings of one kind (two funding
  years) are told apart by their dates;
* ``contract_end: no longer applies ...``: the one of that kind cancelled at that
  moment with that note, else the only one of that kind;
* ``REF: publication due 5 Sep 2024 done|cancelled|snoozed ...``: the one of that kind
  due on that day at the time, else the only one of that kind;
* ``REF: review due 1 Oct 2024 added (id 14)``: the id written in it.

What cannot be told apart stays NULL (counted for no milestone). The kinds need no
rewriting: every kind earlier releases wrote is already a value of
``tracker.domain.types.EventKind``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_contract_events_milestone_id_milestones"
INDEX = "ix_contract_events_milestone_id"

#: derive.NO_LONGER_APPLIES when this was written.
NO_LONGER_APPLIES = "no longer applies after a change to the contract"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MOVED = re.compile(r"(?P<kind>[a-z_]+) moved from (?P<old>[\d-]{10}) to (?P<new>[\d-]{10})")
GONE = re.compile(r"(?P<kind>[a-z_]+): " + re.escape(NO_LONGER_APPLIES))
BY_PERSON = re.compile(
    r"(?P<kind>[a-z_]+) due (?P<day>\d{1,2}) (?P<month>[A-Z][a-z]{2}) (?P<year>\d{4}) "
)
ADDED_ID = re.compile(r".* added \(id (?P<id>\d+)\)")
KINDS = (
    "milestone_moved",
    "milestone_cancelled",
    "milestone_done",
    "milestone_snoozed",
    "milestone_added",
)

events = sa.table(
    "contract_events",
    sa.column("id", sa.Integer()),
    sa.column("contract_id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String()),
    sa.column("detail", sa.Text()),
    sa.column("milestone_id", sa.Integer()),
)
milestones = sa.table(
    "milestones",
    sa.column("id", sa.Integer()),
    sa.column("contract_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("due", sa.Date()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
    sa.column("closed_note", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
contracts = sa.table("contracts", sa.column("id", sa.Integer()), sa.column("ref", sa.String()))
installation = sa.table(
    "installation",
    sa.column("id", sa.Integer()),
    sa.column("uid", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


class _Log(NamedTuple):
    """What the backfill knows: the milestones by (contract, kind), each one's due date
    as of the event being matched (the replay moves it back), and the contracts' refs.

    (Not a dataclass: Alembic loads this module outside ``sys.modules``.)"""

    siblings: dict[tuple[int, str], list[Any]]
    dues: dict[int, date]
    refs: dict[int, str]


def _uk_day(match: re.Match[str]) -> date | None:
    if match["month"] not in MONTHS:
        return None
    return date(int(match["year"]), MONTHS.index(match["month"]) + 1, int(match["day"]))


def _pick(preferred: list[int], candidates: list[Any]) -> int | None:
    """The first preferred one, else the only candidate, else none (cannot tell)."""
    if preferred:
        return preferred[0]
    ids: list[int] = [m.id for m in candidates]
    return ids[0] if len(ids) == 1 else None


def _by_due(log: _Log, candidates: list[Any], due: date | None) -> int | None:
    return _pick([m.id for m in candidates if log.dues[m.id] == due], candidates)


def _gone(candidates: list[Any], at: datetime) -> int | None:
    closed = [m.id for m in candidates if m.closed_at == at and m.closed_note == NO_LONGER_APPLIES]
    return _pick(closed, candidates)


def _match(log: _Log, event: Any) -> int | None:
    """The milestone an old event's text names; a move is undone in ``log.dues``."""
    moved = MOVED.fullmatch(event.detail)
    if moved is not None:
        found = _by_due(
            log, _candidates(log, event, moved["kind"]), date.fromisoformat(moved["new"])
        )
        if found is not None:
            log.dues[found] = date.fromisoformat(moved["old"])
        return found
    gone = GONE.fullmatch(event.detail)
    if gone is not None:
        return _gone(_candidates(log, event, gone["kind"]), event.at)
    prefix = f"{log.refs.get(event.contract_id)}: "
    rest = event.detail[len(prefix) :] if event.detail.startswith(prefix) else ""
    added = ADDED_ID.fullmatch(rest)
    if added is not None and int(added["id"]) in log.dues:
        return int(added["id"])
    person = BY_PERSON.match(rest)
    if person is not None:
        return _by_due(log, _candidates(log, event, person["kind"]), _uk_day(person))
    return None


def _candidates(log: _Log, event: Any, kind: str) -> list[Any]:
    """Milestones of that kind on the event's contract that existed when it was logged."""
    return [m for m in log.siblings.get((event.contract_id, kind), []) if m.created_at <= event.at]


def _backfill(conn: sa.Connection) -> None:
    log = _Log(
        siblings={},
        dues={},
        refs=dict(conn.execute(sa.select(contracts.c.id, contracts.c.ref)).all()),
    )
    for m in conn.execute(sa.select(milestones).order_by(milestones.c.id)):
        log.siblings.setdefault((m.contract_id, m.kind), []).append(m)
        log.dues[m.id] = m.due
    newest_first = (
        sa.select(events)
        .where(events.c.kind.in_(KINDS))
        .order_by(events.c.at.desc(), events.c.id.desc())
    )
    found = [(e.id, _match(log, e)) for e in conn.execute(newest_first).all()]
    updates = [{"event": event, "milestone": ms} for event, ms in found if ms is not None]
    if updates:
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event"))
            .values(milestone_id=sa.bindparam("milestone")),
            updates,
        )


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":  # stored as naive UTC text there
        now = now.replace(tzinfo=None)
    op.bulk_insert(installation, [{"id": 1, "uid": uuid.uuid4().hex, "created_at": now}])
    # On SQLite this copies contract_events alone (nothing refers to it), to add the key.
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("milestone_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK, "milestones", ["milestone_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(INDEX, ["milestone_id"], unique=False)
    _backfill(op.get_bind())


def downgrade() -> None:
    # Batch mode copies contract_events only; milestones and reminders stay as they are.
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.drop_column("milestone_id")
    op.drop_table("installation")
