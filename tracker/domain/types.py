"""Plain value types of the domain: what a contract is, independent of storage.

These are frozen dataclasses so the pure rules in ``tracker.domain`` can be tested
without a database; ``tracker.store`` maps its rows to and from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class MilestoneKind(StrEnum):
    """Every kind of dated event; the first six are derived from contract data."""

    CONTRACT_START = "contract_start"
    CONTRACT_END = "contract_end"
    EXTENSION_NOTICE = "extension_notice"
    CONTINUATION_DECISION = "continuation_decision"
    LAST_REFERRAL = "last_referral"
    FUNDING_CONFIRMATION = "funding_confirmation"
    PROCUREMENT = "procurement"
    PUBLICATION = "publication"
    GRANT_AGREEMENT = "grant_agreement"
    REVIEW = "review"
    CUSTOM = "custom"
    # The Procurement Act 2023's notices (tracker.domain.procurement); the first four are
    # derived, a change notice is added by hand before a modification.
    CONTRACT_DETAILS_NOTICE = "contract_details_notice"
    CONTRACT_PUBLICATION = "contract_publication"
    PERFORMANCE_ASSESSMENT = "performance_assessment"
    TERMINATION_NOTICE = "termination_notice"
    CHANGE_NOTICE = "change_notice"


class Regime(StrEnum):
    """The procurement law a contract was let under: the Act's notices apply to pa2023 only.

    ``pcr2015``: the Public Contracts Regulations 2015 (procurement begun before 24
    February 2025); ``none``: grants and contracts outside procurement law.
    """

    PA2023 = "pa2023"
    PCR2015 = "pcr2015"
    NONE = "none"


#: Duties the law imposes (the Procurement Act 2023's notices): the digest marks them as
#: statutory, since missing one is a breach the authority has to explain.
STATUTORY_KINDS = frozenset(
    {
        MilestoneKind.CONTRACT_DETAILS_NOTICE,
        MilestoneKind.CONTRACT_PUBLICATION,
        MilestoneKind.PERFORMANCE_ASSESSMENT,
        MilestoneKind.TERMINATION_NOTICE,
        MilestoneKind.CHANGE_NOTICE,
    }
)

#: Kinds due after the contract has ended (s.80: within 30 days of the end): an early end
#: moves them with it instead of cancelling them as it does what falls after the end.
AFTER_END_KINDS = frozenset({MilestoneKind.TERMINATION_NOTICE})


#: Kinds that are dated facts, not decisions: nothing to mark done, snooze or list in a
#: digest (and, as PASSING_KINDS, done once their day has passed).
FACT_KINDS = frozenset({MilestoneKind.CONTRACT_START, MilestoneKind.CONTRACT_END})

#: Kinds that cannot be acted on once their day has passed (a client referred after the
#: last-referral date cannot finish anyway): lead reminders, then done by passing, never
#: nagged. See ``tracker.domain.milestones.closes_on``.
PASSING_KINDS = FACT_KINDS | {MilestoneKind.LAST_REFERRAL}

#: Kinds that stay open (overdue) past their day but are closed by the contract's end:
#: an extension option not exercised by then has lapsed.
LAPSING_KINDS = frozenset({MilestoneKind.EXTENSION_NOTICE})

#: Kinds a user may add by hand (``tracker milestone add``). Derived kinds are recomputed.
MANUAL_KINDS = frozenset(
    {
        MilestoneKind.PROCUREMENT,
        MilestoneKind.PUBLICATION,
        MilestoneKind.GRANT_AGREEMENT,
        MilestoneKind.REVIEW,
        MilestoneKind.CUSTOM,
        # funding_confirmation may also be entered by hand for an agreement not tied to a line.
        MilestoneKind.FUNDING_CONFIRMATION,
        # published before a modification (s.75): only the person modifying knows when.
        MilestoneKind.CHANGE_NOTICE,
    }
)


class MilestoneStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class MilestoneOrigin(StrEnum):
    DERIVED = "derived"
    MANUAL = "manual"


class ExtensionStatus(StrEnum):
    AVAILABLE = "available"
    ACTIVATED = "activated"
    DECLINED = "declined"
    LAPSED = "lapsed"


class EndReason(StrEnum):
    """Why a contract ended before its end date (``tracker terminate --reason``)."""

    TERMINATED = "terminated"
    DECOMMISSIONED = "decommissioned"
    SET_ASIDE = "set-aside"


class FundingStatus(StrEnum):
    EXPECTED = "expected"
    PLEDGED = "pledged"
    CONFIRMED = "confirmed"
    RECEIVED = "received"
    WITHDRAWN = "withdrawn"


#: Funding that counts against the gap.
SECURED_FUNDING = frozenset({FundingStatus.CONFIRMED, FundingStatus.RECEIVED})
#: Funding shown beside the gap as "at risk", never counted as secured.
AT_RISK_FUNDING = frozenset({FundingStatus.EXPECTED, FundingStatus.PLEDGED})


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A UK financial year, 1 April to 31 March, named by its starting calendar year.

    ``FinancialYear(2025)`` is written ``2025/26`` and runs 2025-04-01 .. 2026-03-31.
    """

    start_year: int

    @property
    def start(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        return date(self.start_year + 1, 3, 31)

    def __str__(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @classmethod
    def of(cls, day: date) -> FinancialYear:
        """The financial year containing ``day``."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    def next(self) -> FinancialYear:
        return FinancialYear(self.start_year + 1)


@dataclass(frozen=True)
class ExtensionOption:
    """An option to extend the contract to ``until``; ``seq`` orders options (1, 2, ...)."""

    seq: int
    until: date
    notice_days: int | None = None
    notice_by: date | None = None
    status: ExtensionStatus = ExtensionStatus.AVAILABLE


@dataclass(frozen=True)
class FundingLine:
    """Money promised or paid towards one financial year. ``key`` is stable across edits."""

    key: str
    source: str
    year: FinancialYear
    amount: Decimal
    status: FundingStatus = FundingStatus.EXPECTED
    confirm_by: date | None = None


@dataclass(frozen=True)
class CostLine:
    year: FinancialYear
    amount: Decimal
    category: str = ""


@dataclass(frozen=True)
class Decision:
    """A published decision record (e.g. "20/2024"), due for publication N working days
    after the decision (the Lancashire record: within 3 working days of approval)."""

    ref: str
    decided_on: date
    publish_within_working_days: int = 3
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class ContractHeading:
    """What names a contract and its term, wherever it is held (typed in, or as the
    rules see it): one declaration, so input and rules cannot drift apart."""

    ref: str
    title: str
    provider: str
    start: date
    end: date


@dataclass(frozen=True)
class Contract(ContractHeading):
    """The facts of a contract the rules need. ``original_end`` is the end first agreed."""

    original_end: date
    value: Decimal | None = None
    intervention_months: int | None = None
    #: Which procurement law applies, whether the contract is light-touch (the Act's
    #: longer periods, no KPI assessments) and the day it was entered into (signed).
    regime: Regime = Regime.NONE
    light_touch: bool = False
    entered_into: date | None = None
    extensions: tuple[ExtensionOption, ...] = ()
    funding: tuple[FundingLine, ...] = ()
    costs: tuple[CostLine, ...] = ()
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DerivedMilestone:
    """A milestone the rules derive; ``key`` identifies it across re-derivations.

    Re-deriving a contract matches stored derived milestones by ``(kind, key)``: an
    unchanged due date keeps its status, a moved one is re-opened, a vanished one is
    cancelled (never deleted, so its reminder history stays attached).
    """

    kind: MilestoneKind
    key: str
    due: date
    title: str
    note: str = ""


@dataclass(frozen=True)
class DerivationRules:
    """Settings the derivation rules take from policy (``config/policy.toml``)."""

    staffing_risk_months: int = 9
    funding_lead_days: int = 60


@dataclass(frozen=True)
class MilestoneState:
    """What the staffing and reporting rules need to know about a stored milestone."""

    kind: MilestoneKind
    key: str
    due: date
    status: MilestoneStatus
    origin: MilestoneOrigin = MilestoneOrigin.DERIVED
    extra: dict[str, str] = field(default_factory=dict)


class EventKind(StrEnum):
    """What a change-log entry records. Stored as its value in ``contract_events.kind``."""

    CONTRACT_ADDED = "contract_added"
    EXTENSION_ACTIVATED = "extension_activated"
    EXTENSION_DECLINED = "extension_declined"
    FUNDING_ADDED = "funding_added"
    FUNDING_CONFIRMED = "funding_confirmed"
    COST_ADDED = "cost_added"
    POLICY_SET = "policy_set"
    DECISION_ADDED = "decision_added"
    MILESTONE_ADDED = "milestone_added"
    MILESTONE_MOVED = "milestone_moved"
    MILESTONE_CANCELLED = "milestone_cancelled"
    MILESTONE_REOPENED = "milestone_reopened"
    MILESTONE_DONE = "milestone_done"
    MILESTONE_SNOOZED = "milestone_snoozed"
    CONTRACT_EDITED = "contract_edited"
    CONTRACT_VARIED = "contract_varied"
    CONTRACT_ENDED = "contract_ended"
    FUNDING_CHANGED = "funding_changed"
    FUNDING_REMOVED = "funding_removed"
    COST_CHANGED = "cost_changed"
    COST_REMOVED = "cost_removed"
    HANDED_OVER = "handed_over"
    CONTRACT_UPDATED = "contract_updated"


#: The events that change a milestone's date or status: each one is a new version of the
#: milestone for a calendar client (its iCalendar SEQUENCE). A snooze moves neither.
MILESTONE_CHANGES = frozenset(
    {
        EventKind.MILESTONE_MOVED,
        EventKind.MILESTONE_CANCELLED,
        EventKind.MILESTONE_REOPENED,
        EventKind.MILESTONE_DONE,
    }
)
