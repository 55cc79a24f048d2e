"""SQLAlchemy tables. One row type per stored thing; the rules live in ``tracker.domain``.

Changes to these models go with an Alembic migration in ``tracker/migrations/versions``;
a test compares the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracker.store.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL = 320  # RFC 5321 maximum path length


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ContractRow(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    commissioner: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    original_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal | None] = mapped_column(Money)
    owner: Mapped[str | None] = mapped_column(String(EMAIL), index=True)
    sponsor: Mapped[str | None] = mapped_column(String(EMAIL), index=True)
    intervention_months: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    watchers: Mapped[list[WatcherRow]] = relationship(
        cascade="all, delete-orphan", order_by="WatcherRow.email", lazy="selectin"
    )
    extensions: Mapped[list[ExtensionRow]] = relationship(
        cascade="all, delete-orphan", order_by="ExtensionRow.seq", lazy="selectin"
    )
    funding: Mapped[list[FundingRow]] = relationship(
        cascade="all, delete-orphan", order_by="(FundingRow.year, FundingRow.id)", lazy="selectin"
    )
    costs: Mapped[list[CostRow]] = relationship(
        cascade="all, delete-orphan", order_by="(CostRow.year, CostRow.id)", lazy="selectin"
    )
    milestones: Mapped[list[MilestoneRow]] = relationship(
        cascade="all, delete-orphan",
        order_by="(MilestoneRow.due, MilestoneRow.id)",
        lazy="selectin",
        back_populates="contract",
    )


class WatcherRow(Base):
    __tablename__ = "contract_watchers"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL), primary_key=True)

    __table_args__ = (Index("ix_contract_watchers_email", "email"),)


class ExtensionRow(Base):
    __tablename__ = "extension_options"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    until: Mapped[date] = mapped_column(Date)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    notice_by: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("contract_id", "seq"),)


class FundingRow(Base):
    __tablename__ = "funding_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    confirm_by: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("contract_id", "key"),)


class CostRow(Base):
    __tablename__ = "cost_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)


class MilestoneRow(Base):
    """A dated event. Derived rows are matched on (contract, kind, key) when re-derived."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    due: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    contract: Mapped[ContractRow] = relationship(back_populates="milestones", lazy="raise")

    __table_args__ = (
        UniqueConstraint("contract_id", "kind", "key"),
        # The timeline, digest and reminder planning read open milestones by due date.
        Index("ix_milestones_status_due", "status", "due"),
        Index("ix_milestones_due", "due"),
    )


class EventRow(Base):
    """The contract's change log: what happened, when (UTC). Feeds "what changed" views."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_contract_events_contract_id_at", "contract_id", "at"),
        Index("ix_contract_events_at", "at"),
    )
