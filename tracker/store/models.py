"""SQLAlchemy tables. One row type per stored thing; the rules live in ``tracker.domain``.

Changes to these models go with an Alembic migration in ``tracker/migrations/versions``;
a test compares the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
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
    #: Incremented by every change (see ``tracker.store.audit``): a change made on a stale
    #: read (``--if-version``) is refused rather than overwriting the one made meanwhile.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: Set when the contract was terminated, decommissioned or set aside before its end.
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    #: The procurement law it was let under (``tracker.domain.types.Regime``), whether it
    #: is a light-touch contract and the day it was entered into: the Procurement Act
    #: 2023's notices are derived from them (``tracker.domain.procurement``).
    regime: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    light_touch: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    entered_into: Mapped[date | None] = mapped_column(Date)

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
    policies: Mapped[list[ContractPolicyRow]] = relationship(
        cascade="all, delete-orphan", order_by="ContractPolicyRow.kind", lazy="selectin"
    )
    decisions: Mapped[list[DecisionRow]] = relationship(
        cascade="all, delete-orphan",
        order_by="(DecisionRow.decided_on, DecisionRow.id)",
        lazy="selectin",
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
    #: When ``tracker funding remove`` took the line out: kept for the history, left out
    #: of gaps, totals and ``show`` (see ``live_lines``).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
    #: When ``tracker cost remove`` took the line out (see ``FundingRow.removed_at``).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    #: Reminders and nags are held until this day (London); the due date never moves.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    snooze_note: Mapped[str | None] = mapped_column(Text)
    #: When the sweep next has to look at this open decision for a nag: the nag after the
    #: latest one planned (the first if none), not before the snooze ends; None: no nags.
    #: Kept in step by ``tracker.service.reminders.plan.nag_schedule`` (re-planning and sweep).
    next_nag_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The configured default nag interval ``next_nag_at`` was worked out with, so a sweep
    #: under another configuration notices; None when it does not depend on it (the
    #: contract sets its own interval, the milestone is closed or a fact, or the value
    #: is a bound that holds under any policy, as the upgrade to 0007 leaves it).
    nag_default_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    contract: Mapped[ContractRow] = relationship(back_populates="milestones", lazy="raise")

    __table_args__ = (
        UniqueConstraint("contract_id", "kind", "key"),
        # The timeline, digest and reminder planning read open milestones by due date.
        Index("ix_milestones_status_due", "status", "due"),
        Index("ix_milestones_due", "due"),
        # The sweep's nag query: a range scan on next_nag_at <= now, plus, per decision
        # kind, milestones worked out under another default interval than the current one
        # (a changed configuration). Neither grows with the data while nothing is due.
        Index("ix_milestones_next_nag_at", "next_nag_at"),
        Index("ix_milestones_kind_nag_default_days", "kind", "nag_default_days"),
    )


class EventRow(Base):
    """The contract's change log: what happened, when (UTC). Feeds "what changed" views."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))  # a tracker.domain.types.EventKind value
    detail: Mapped[str] = mapped_column(Text)
    #: The milestone the event concerns, if one: the calendar counts a milestone's changes
    #: by it (its SEQUENCE). Milestones are never deleted, but a contract's are with it.
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("milestones.id", ondelete="SET NULL")
    )
    #: Who made the change (``--by``, TRACKER_ACTOR or the OS user); None before 0011.
    actor: Mapped[str | None] = mapped_column(String(EMAIL))

    __table_args__ = (
        Index("ix_contract_events_contract_id_at", "contract_id", "at"),
        Index("ix_contract_events_at", "at"),
        Index("ix_contract_events_milestone_id", "milestone_id"),
    )


class VariationRow(Base):
    """A formal variation (or an activated extension option): dated, numbered, and the end
    and value it moved from and to (None where it left them alone)."""

    __tablename__ = "variations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    ref_no: Mapped[str] = mapped_column(String(100))  # "Variation 2"
    dated: Mapped[date] = mapped_column(Date)
    old_end: Mapped[date | None] = mapped_column(Date)
    new_end: Mapped[date | None] = mapped_column(Date)
    old_value: Mapped[Decimal | None] = mapped_column(Money)
    new_value: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(EMAIL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InstallationRow(Base):
    """This database's identity, one row made by the migration that added the table.

    Random, so two installations never share it: it keeps calendar UIDs apart when one
    calendar subscribes to two authorities' feeds.
    """

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    uid: Mapped[str] = mapped_column(String(32))  # uuid4 hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContractPolicyRow(Base):
    """A contract's own reminder policy for one milestone kind; None fields use the default."""

    __tablename__ = "contract_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    leads: Mapped[str | None] = mapped_column(String(200))  # "120,60,30"
    escalate_from: Mapped[int | None] = mapped_column(Integer)
    nag_days: Mapped[int | None] = mapped_column(Integer)
    max_nags: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("contract_id", "kind"),)


class ReminderRow(Base):
    """One planned email: (milestone, due date, lead, recipient), unique, claimed before sending.

    ``lead`` is days before the due date; a nag has a negative lead (days overdue). The due
    date is part of the identity so a moved deadline is reminded afresh, while the
    reminders sent about the old date stay in the history. ``due_at`` is when the row may
    next be attempted: ``send_at`` at first, later the retry time after a temporary failure.
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    milestone_due: Mapped[date] = mapped_column(Date)
    lead: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(EMAIL))
    role: Mapped[str] = mapped_column(String(16))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(250))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reply: Mapped[str | None] = mapped_column(Text)
    collapsed_into: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the first attempt was claimed: temporary failures retry until this is old.
    #: (Last, where migration 0009 added it: the table's column order.)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("milestone_id", "milestone_due", "lead", "recipient"),
        # The sweep's due query: status = planned/sending and due_at <= now, oldest first.
        Index("ix_reminders_status_due_at", "status", "due_at"),
        # A contract's reminders (the cascade), and its failed ones (the digest, the home).
        Index("ix_reminders_contract_id_status", "contract_id", "status"),
    )


class DeliveryAttemptRow(Base):
    """Every attempt to deliver a reminder or a digest, kept forever: "were we warned, and when?"."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("digests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str] = mapped_column(Text)
    instance: Mapped[str] = mapped_column(String(120))


class RecipientRow(Base):
    """A person's own digest settings; people without a row get the configured default."""

    __tablename__ = "recipients"

    email: Mapped[str] = mapped_column(String(EMAIL), primary_key=True)
    digest: Mapped[str] = mapped_column(String(16))  # weekly | daily | off
    digest_time: Mapped[str | None] = mapped_column(String(5))  # "08:00", London
    digest_day: Mapped[str | None] = mapped_column(String(9))  # "monday"; None: the default
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestRow(Base):
    """One digest for one person and period: unique, claimed before sending, like reminders.

    ``period`` is ``2024-W36`` (weekly) or ``2024-09-02`` (daily); an empty digest that was
    not sent is kept as ``empty`` so it is decided once per period, not every minute.
    """

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(EMAIL))
    period: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(250))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the first attempt was claimed (see ReminderRow).
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("recipient", "period"),
        Index("ix_digests_status_due_at", "status", "due_at"),
    )


class InstanceRow(Base):
    """A running ``tracker run`` process: its heartbeat, so operators can see who is alive."""

    __tablename__ = "instances"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid:random
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_sweep: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """A decision record about the contract (its id, date and published URL)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(100))  # "20/2024"
    decided_on: Mapped[date] = mapped_column(Date)
    publish_within_working_days: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("contract_id", "ref"),)


class SendSlotRow(Base):
    """One message sent (or about to be) by any instance, for the shared sending rate.

    ``TRACKER_SMTP_MAX_PER_MINUTE`` is a cap across every instance sharing the database,
    so its count lives here, not in a process; rows older than the window are deleted
    as new ones are reserved (see ``tracker.store.limiter``).
    """

    __tablename__ = "send_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    instance: Mapped[str] = mapped_column(String(120))


class SignInLinkRow(Base):
    """An emailed sign-in link: only the SHA-256 of its token is kept, so a copy of the
    database signs nobody in. ``used_at`` is set by the one POST that may use it."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL))
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInAttemptRow(Base):
    """One sign-in request, counted against its address and its client (a key each):
    the rate limit holds across every instance and process on the database."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), index=True)  # "email:…" / "client:…"
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CalendarKeyRow(Base):
    """A person's calendar subscription generation: the URL's signed secret carries it,
    so replacing the secret (generation + 1) stops every older URL. No secret is stored."""

    __tablename__ = "calendar_keys"

    email: Mapped[str] = mapped_column(String(EMAIL), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


Line = TypeVar("Line", FundingRow, CostRow)


def live_lines(lines: list[Line]) -> list[Line]:
    """The lines in force: removed ones stay stored for the history, out of every sum."""
    return [line for line in lines if line.removed_at is None]


def funding_id(line: FundingRow) -> str:
    """``F3``: the line's key on its contract, the id commands take (stable across edits
    and re-derivation: the funding-confirmation milestone's key is made of it too)."""
    return f"F{line.key}"


def cost_id(line: CostRow) -> str:
    """``C7``: the cost line's row id (cost lines have no key of their own)."""
    return f"C{line.id}"
