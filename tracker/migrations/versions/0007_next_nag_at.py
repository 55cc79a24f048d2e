"""next nag time per milestone, so the sweep's nag query is a range scan

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000

``milestones.next_nag_at``: when the sweep next has to look at an open decision for a
nag; ``milestones.nag_default_days``: the configured interval it was worked out with.
The index of 0006 (open decisions by kind and due date) served the nag query this
replaces and goes.

Backfill: the migration knows neither the user's policy nor the bank holidays, so every
open decision gets a bound that holds under any policy: midnight UTC on its due date
(no nag can fall before the day after it), with ``nag_default_days`` NULL. ``tracker
init`` then re-plans every contract, which works out the exact time; until then (or if
that is interrupted) the sweep reads such a milestone once its due date has come, works
it out itself and stores it, so no nag is lost either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Dated facts, never nagged (tracker.domain.types.FACT_KINDS when this was written).
FACTS = "('contract_start', 'contract_end')"


def upgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_nag_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("nag_default_days", sa.Integer(), nullable=True))
        batch_op.drop_index("ix_milestones_status_kind_due")
        batch_op.create_index("ix_milestones_next_nag_at", ["next_nag_at"], unique=False)
        batch_op.create_index(
            "ix_milestones_kind_nag_default_days", ["kind", "nag_default_days"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        midnight = "(due::timestamp AT TIME ZONE 'UTC')"
    else:  # stored as SQLAlchemy stores a UTC time on SQLite: naive ISO text
        midnight = "(due || ' 00:00:00.000000')"
    op.execute(
        f"UPDATE milestones SET next_nag_at = {midnight}, nag_default_days = NULL"
        f" WHERE status = 'open' AND kind NOT IN {FACTS}"
    )


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the table, and dropping the old copy would
    # cascade to every reminder and attempt (foreign keys are on). Dropping a column is
    # native from SQLite 3.35; an older one refuses, and nothing is lost.
    op.drop_index("ix_milestones_kind_nag_default_days", table_name="milestones")
    op.drop_index("ix_milestones_next_nag_at", table_name="milestones")
    op.create_index(
        "ix_milestones_status_kind_due", "milestones", ["status", "kind", "due"], unique=False
    )
    op.drop_column("milestones", "nag_default_days")
    op.drop_column("milestones", "next_nag_at")
