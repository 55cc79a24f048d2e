"""funding and cost lines that are removed stay in the history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00.000000

``funding_lines.removed_at`` and ``cost_lines.removed_at``: when ``tracker funding
remove`` / ``tracker cost remove`` took the line out. A removed line is left out of
gaps, totals and ``show`` but kept, with its values, so the change history can name it.
NULL (every existing line) is a line in force. (The lead re-chains after 0011.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("funding_lines", "cost_lines")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("removed_at")
