"""a contract's own cap on nags per milestone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000

``contract_policies.max_nags``: how many overdue nags a milestone of that kind gets on
that contract; NULL keeps the configured default (``max_nags`` in the policy). No
backfill: every existing override keeps the default. ``tracker init`` re-plans every
contract, which stops the nag schedule of decisions already nagged that often.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contract_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_nags", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contract_policies", schema=None) as batch_op:
        batch_op.drop_column("max_nags")
