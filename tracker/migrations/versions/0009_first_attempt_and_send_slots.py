"""retries measured from the first attempt; a shared sending rate

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000

``reminders.first_attempt_at`` and ``digests.first_attempt_at``: when a row's first
attempt was claimed, so a temporary failure is retried for ``TRACKER_RETRY_MAX_HOURS``
from then (as an MTA's queue lifetime runs from when it took the message), not from the
planned time. ``send_slots``: one row per message sent lately, by any instance, for
``TRACKER_SMTP_MAX_PER_MINUTE``.

Backfill: each row that has attempts gets the time of its earliest one; rows never
attempted stay NULL (their first claim sets it).

Plain ``add_column`` on both tables: SQLite adds a nullable column in place, whereas
batch mode would copy ``reminders`` (and dropping the old copy cascades to every
attempt, foreign keys being on).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, its key in delivery_attempts)
OUTBOXES = (("reminders", "reminder_id"), ("digests", "digest_id"))


def upgrade() -> None:
    for table, key in OUTBOXES:
        op.add_column(table, sa.Column("first_attempt_at", sa.DateTime(timezone=True)))
        op.execute(
            f"UPDATE {table} SET first_attempt_at = "
            f"(SELECT min(a.at) FROM delivery_attempts a WHERE a.{key} = {table}.id) "
            f"WHERE EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.{key} = {table}.id)"
        )
    op.create_table(
        "send_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("instance", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_slots")),
    )
    op.create_index(op.f("ix_send_slots_at"), "send_slots", ["at"], unique=False)


def downgrade() -> None:
    # Not in batch mode (see the module docstring); dropping a column is native from
    # SQLite 3.35, the oldest the tracker runs on.
    op.drop_index(op.f("ix_send_slots_at"), table_name="send_slots")
    op.drop_table("send_slots")
    for table, _key in OUTBOXES:
        op.drop_column(table, "first_attempt_at")
