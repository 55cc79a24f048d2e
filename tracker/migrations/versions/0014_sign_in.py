"""sign in by email link; per-person digest day; calendar subscription keys

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00.000000

``sign_in_links``: an emailed link's token as its SHA-256 only, its address, where to go
after, when it expires and when it was used (once). ``sign_in_attempts``: one row per
sign-in request per key (the address, the client), for the hourly limit shared by every
instance. ``calendar_keys``: each person's calendar URL generation (replacing the URL
bumps it). ``recipients.digest_day``: the weekday of a person's weekly digest (NULL: the
configured default). (The lead re-chains after 0013/0014 when merging.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_links_token_hash")),
    )
    op.create_index(
        op.f("ix_sign_in_links_expires_at"), "sign_in_links", ["expires_at"], unique=False
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index(op.f("ix_sign_in_attempts_key"), "sign_in_attempts", ["key"], unique=False)
    op.create_index(op.f("ix_sign_in_attempts_at"), "sign_in_attempts", ["at"], unique=False)
    op.create_table(
        "calendar_keys",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_calendar_keys")),
    )
    op.add_column("recipients", sa.Column("digest_day", sa.String(length=9), nullable=True))


def downgrade() -> None:
    op.drop_column("recipients", "digest_day")
    op.drop_table("calendar_keys")
    op.drop_index(op.f("ix_sign_in_attempts_at"), table_name="sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_attempts_key"), table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    op.drop_index(op.f("ix_sign_in_links_expires_at"), table_name="sign_in_links")
    op.drop_table("sign_in_links")
