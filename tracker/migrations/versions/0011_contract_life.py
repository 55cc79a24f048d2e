"""a contract's life: versions, early ends, variations and who made each change

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00.000000

* ``contracts.version``: incremented by every change, so a change made on a stale read
  is refused (``--if-version``); existing contracts start at 1.
* ``contracts.ended_on`` / ``end_reason``: a contract terminated, decommissioned or set
  aside before its end (NULL: it runs to its end date).
* ``contract_events.actor``: who made the change (NULL for events logged before).
* ``variations``: formal variations (and activated extension options), each with its
  number and date and the end and value it moved from and to.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=32), nullable=True))
    op.execute("UPDATE contracts SET version = 1")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("version", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=320), nullable=True))
    op.create_table(
        "variations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("ref_no", sa.String(length=100), nullable=False),
        sa.Column("dated", sa.Date(), nullable=False),
        sa.Column("old_end", sa.Date(), nullable=True),
        sa.Column("new_end", sa.Date(), nullable=True),
        sa.Column("old_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("new_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_variations_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variations")),
    )
    with op.batch_alter_table("variations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_variations_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("variations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_variations_contract_id"))
    op.drop_table("variations")
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.drop_column("actor")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_on")
        batch_op.drop_column("version")
