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
    # Not in batch mode: on SQLite that copies and drops ``contracts``, and dropping it
    # cascades to every table that refers to it. Adding a column (NOT NULL with a
    # default: the backfill of version 1) and dropping one are native on SQLite 3.35+.
    op.add_column(
        "contracts", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("contracts", sa.Column("ended_on", sa.Date(), nullable=True))
    op.add_column("contracts", sa.Column("end_reason", sa.String(length=32), nullable=True))
    op.add_column("contract_events", sa.Column("actor", sa.String(length=320), nullable=True))
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
    op.create_index(op.f("ix_variations_contract_id"), "variations", ["contract_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_variations_contract_id"), table_name="variations")
    op.drop_table("variations")
    op.drop_column("contract_events", "actor")
    for column in ("end_reason", "ended_on", "version"):
        op.drop_column("contracts", column)
