"""What an email says and how a delivery went: the contract between sweep, builder and transport.

The sweep fills a :class:`ReminderEmail` from the database, :mod:`tracker.mail.render`
renders it, and a transport from :mod:`tracker.mail.transport` reports a
:class:`DeliveryOutcome` for each message, saying whether a failure is worth retrying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from tracker.domain.wording import decision_link_label

if TYPE_CHECKING:
    from tracker.domain.funding import YearGap


@dataclass(frozen=True, kw_only=True)
class GapRow:
    """One financial year of a contract's funding position, as an email shows it."""

    year: str
    cost: Decimal | None  # None: cost unknown
    secured: Decimal
    at_risk: Decimal
    gap: Decimal | None  # None: cost unknown; negative: surplus

    @classmethod
    def of(cls, gap: YearGap) -> GapRow:
        """The row of one year's funding position, the same in every email."""
        return cls(
            year=str(gap.year), cost=gap.cost, secured=gap.secured, at_risk=gap.at_risk, gap=gap.gap
        )


@dataclass(frozen=True, kw_only=True)
class DecisionLink:
    label: str
    url: str

    @classmethod
    def of(cls, ref: str, title: str | None, url: str) -> DecisionLink:
        """The link to a published decision record, labelled the same in every email."""
        return cls(label=decision_link_label(ref, title), url=url)


@dataclass(frozen=True, kw_only=True)
class ReminderEmail:
    """Everything one reminder email about one milestone, for one recipient, shows.

    ``days_left`` is negative when overdue (a nag). ``role`` is ``owner`` or ``sponsor``;
    a sponsor copy says it is an escalation. Every text field may hold hostile user
    input: the builder escapes it in HTML and never treats it as a template.
    """

    message_id: str
    sent_at: datetime  # aware; the Date header
    mail_from: str
    recipient: str
    role: str  # owner | sponsor
    ref: str
    contract_title: str
    provider: str
    contract_end: date
    kind: str  # milestone kind name, e.g. extension_notice
    kind_label: str  # "Extension notice"
    milestone_title: str
    milestone_note: str | None
    due: date
    days_left: int
    lead: int  # the lead in days this reminder was planned for (negative: a nag)
    is_nag: bool
    if_missed: str  # DECISION_TEXT sentence
    staffing_at_risk: bool
    staffing_summary: str
    gaps: tuple[GapRow, ...] = ()
    warnings: tuple[str, ...] = ()
    done_command: str = ""
    snooze_command: str = ""
    decision_links: tuple[DecisionLink, ...] = field(default_factory=tuple)
    escalate_from: int | None = None  # lead from which the sponsor is copied
    nags_left: int = 0  # nags still to come after this one (a nag; 0: the last)
    is_escalation: bool = False  # the last nag's copy that tells the sponsor
    weeks_overdue: int = 0  # whole weeks overdue, as the escalation says it
    #: Signed links to act from the email ("" without TRACKER_BASE_URL: no links shown).
    done_url: str = ""
    snooze_url: str = ""
    #: The contract's page in the web app ("" without TRACKER_BASE_URL).
    page_url: str = ""
    #: Who to ask to have the reminders go to someone else (shown with the links).
    ask_to_change: str = ""


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # retry later: 4xx, refused or dropped connection, timeout
    PERMANENT = "permanent"  # give up: 5xx for this recipient


@dataclass(frozen=True)
class DeliveryOutcome:
    outcome: Outcome
    reply: str  # the server's reply (code and text) or what went wrong

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


@dataclass(frozen=True, kw_only=True)
class DigestItem:
    """One decision in a digest: overdue or due soon, with the command that closes it."""

    ref: str
    contract_title: str
    kind: str
    kind_label: str
    title: str
    due: date
    days_left: int  # negative: overdue
    if_missed: str
    close_command: str
    snooze_command: str
    snoozed_until: date | None = None
    snooze_note: str | None = None
    staffing_at_risk: bool = False
    decision_links: tuple[DecisionLink, ...] = ()
    milestone_id: int = 0
    #: Signed links for the recipient ("" without TRACKER_BASE_URL).
    done_url: str = ""
    snooze_url: str = ""
    #: The contract's page in the web app ("" without TRACKER_BASE_URL).
    page_url: str = ""

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True, kw_only=True)
class DigestContract:
    """A contract as the digest shows it in its funding, staffing and ending sections."""

    ref: str
    title: str
    provider: str
    end: date
    days_to_end: int
    role: str  # owner | sponsor | watcher (the recipient's relation to it)
    staffing_at_risk: bool
    staffing_summary: str
    gaps: tuple[GapRow, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DigestChange:
    at: datetime  # aware UTC
    ref: str
    detail: str


@dataclass(frozen=True, kw_only=True)
class DigestFailure:
    at: datetime  # aware UTC
    ref: str
    kind: str
    recipient: str
    reply: str


@dataclass(frozen=True, kw_only=True)
class DigestEmail:
    """One person's digest for one period. Every section is sorted already:
    decisions overdue first then by due date; contracts by urgency."""

    message_id: str
    sent_at: datetime  # aware; the Date header
    mail_from: str
    recipient: str
    period_label: str  # "week of 2 Sep 2024" or "2 Sep 2024"
    frequency: str  # weekly | daily
    overdue: tuple[DigestItem, ...] = ()
    upcoming: tuple[DigestItem, ...] = ()  # due in the next 8 weeks
    funding: tuple[DigestContract, ...] = ()  # contracts with a gap or at-risk funding
    staffing: tuple[DigestContract, ...] = ()  # contracts at staffing risk
    ending: tuple[DigestContract, ...] = ()  # ending within 12 months
    changes: tuple[DigestChange, ...] = ()  # the last 7 days
    failures: tuple[DigestFailure, ...] = ()  # failed deliveries since the last digest
    #: The person's signed digest settings link, also the List-Unsubscribe target ("": none).
    settings_url: str = ""

    @property
    def is_empty(self) -> bool:
        news = self.changes or self.failures
        return not (
            self.overdue or self.upcoming or self.funding or self.staffing or self.ending or news
        )


@dataclass(frozen=True, kw_only=True)
class SignInEmail:
    """The email that carries a sign-in link: who asked, the link, and until when it works."""

    message_id: str
    sent_at: datetime  # aware; the Date header
    mail_from: str
    recipient: str
    url: str
    minutes: int  # how long the link works
    expires_at: datetime  # aware UTC
