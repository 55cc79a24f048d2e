"""initial schema: contracts, options, funding, costs, milestones, events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:12:04.883309
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("commissioner", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("original_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("owner", sa.String(length=320), nullable=True),
        sa.Column("sponsor", sa.String(length=320), nullable=True),
        sa.Column("intervention_months", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("ref", name=op.f("uq_contracts_ref")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_end_date"), ["end_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_sponsor"), ["sponsor"], unique=False)

    op.create_table(
        "contract_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_events_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_events")),
    )
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.create_index("ix_contract_events_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_contract_events_contract_id_at", ["contract_id", "at"], unique=False
        )

    op.create_table(
        "contract_watchers",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_watchers_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contract_id", "email", name=op.f("pk_contract_watchers")),
    )
    with op.batch_alter_table("contract_watchers", schema=None) as batch_op:
        batch_op.create_index("ix_contract_watchers_email", ["email"], unique=False)

    op.create_table(
        "cost_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_cost_lines_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_lines")),
    )
    with op.batch_alter_table("cost_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_lines_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "extension_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=True),
        sa.Column("notice_by", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_extension_options_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_options")),
        sa.UniqueConstraint(
            "contract_id", "seq", name=op.f("uq_extension_options_contract_id_seq")
        ),
    )
    op.create_table(
        "funding_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confirm_by", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_funding_lines_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_lines")),
        sa.UniqueConstraint("contract_id", "key", name=op.f("uq_funding_lines_contract_id_key")),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_milestones_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint(
            "contract_id", "kind", "key", name=op.f("uq_milestones_contract_id_kind_key")
        ),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index("ix_milestones_due", ["due"], unique=False)
        batch_op.create_index("ix_milestones_status_due", ["status", "due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_milestones_status_due")
        batch_op.drop_index("ix_milestones_due")

    op.drop_table("milestones")
    op.drop_table("funding_lines")
    op.drop_table("extension_options")
    with op.batch_alter_table("cost_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_lines_contract_id"))

    op.drop_table("cost_lines")
    with op.batch_alter_table("contract_watchers", schema=None) as batch_op:
        batch_op.drop_index("ix_contract_watchers_email")

    op.drop_table("contract_watchers")
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.drop_index("ix_contract_events_contract_id_at")
        batch_op.drop_index("ix_contract_events_at")

    op.drop_table("contract_events")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_sponsor"))
        batch_op.drop_index(batch_op.f("ix_contracts_owner"))
        batch_op.drop_index(batch_op.f("ix_contracts_end_date"))

    op.drop_table("contracts")
