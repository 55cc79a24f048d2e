"""contracts carry their procurement regime: the Procurement Act 2023's notices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00.000000

``contracts.regime`` (``pa2023``, ``pcr2015`` or ``none``; every existing contract is
``none``, so nothing new is derived for it until someone says otherwise),
``contracts.light_touch`` (false) and ``contracts.entered_into`` (the day it was
signed, NULL until given). (The lead re-chains after 0012 at merge.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("regime", sa.String(length=16), nullable=False, server_default="none")
        )
        batch_op.add_column(
            sa.Column("light_touch", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("entered_into", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("entered_into")
        batch_op.drop_column("light_touch")
        batch_op.drop_column("regime")
