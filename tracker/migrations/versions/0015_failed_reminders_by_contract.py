"""reminders found by contract and status: a person's failed deliveries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-12 10:00:00.000000

``ix_reminders_contract_id_status`` (contract_id, status) replaces
``ix_reminders_contract_id``, whose place it takes as its first column (the cascade from
``contracts``, a contract's reminders). The digest and the web app's home read the failed
deliveries about a person's contracts through it: a few index lookups per contract,
where the status index alone walked every failed reminder in the database (some 1,250
at 10,000 contracts, more every week).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE / DROP INDEX, not batch mode (see 0011): batch mode on SQLite copies
    # the table and drops the old one.
    op.create_index(
        "ix_reminders_contract_id_status", "reminders", ["contract_id", "status"], unique=False
    )
    op.drop_index("ix_reminders_contract_id", table_name="reminders")


def downgrade() -> None:
    op.create_index("ix_reminders_contract_id", "reminders", ["contract_id"], unique=False)
    op.drop_index("ix_reminders_contract_id_status", table_name="reminders")
