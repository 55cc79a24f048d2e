"""digests, recipients, attempts for digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:38:45.697132
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("recipient", "period", name=op.f("uq_digests_recipient_period")),
    )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.create_index("ix_digests_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "recipients",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("digest_time", sa.String(length=5), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_recipients")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.alter_column("reminder_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_delivery_attempts_digest_id"), ["digest_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_attempts_digest_id_digests"),
            "digests",
            ["digest_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_delivery_attempts_digest_id_digests"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_delivery_attempts_digest_id"))
        batch_op.alter_column("reminder_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("digest_id")

    op.drop_table("recipients")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_index("ix_digests_status_due_at")

    op.drop_table("digests")
