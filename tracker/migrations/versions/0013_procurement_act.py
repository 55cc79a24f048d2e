"""contracts carry their procurement regime: the Procurement Act 2023's notices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00.000000

``contracts.regime`` (``pa2023``, ``pcr2015`` or ``none``; every existing contract is
``none``, so nothing new is derived for it until someone says otherwise),
``contracts.light_touch`` (false) and ``contracts.entered_into`` (the day it was
signed, NULL until given).
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
    # Not in batch mode (see 0011): on SQLite that copies and drops ``contracts``, and
    # dropping it cascades to every milestone, reminder and event. Adding a column (NOT
    # NULL with a default) and dropping one are native on SQLite 3.35+.
    op.add_column(
        "contracts",
        sa.Column("regime", sa.String(length=16), nullable=False, server_default="none"),
    )
    op.add_column(
        "contracts",
        sa.Column("light_touch", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("contracts", sa.Column("entered_into", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("contracts", "entered_into")
    op.drop_column("contracts", "light_touch")
    op.drop_column("contracts", "regime")
