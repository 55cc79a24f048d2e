"""Derive a contract's dated decisions from its data: one small pure rule per kind.

Each rule returns the milestones of its kind; ``derive_milestones`` joins them and sorts
by (due, kind). Keys never contain dates or amounts, so re-deriving after an unrelated
change matches every stored milestone by ``(kind, key)`` and keeps its status and
reminder history. Dates the rules compute (end less a notice period, a staffing
window, a funding lead) that land on a weekend or bank holiday move back to the
working day before, with a note saying why: a deadline is safe only on the early side.
Dates the user gave (``notice_by``, ``confirm_by``) are contractual and kept as given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tracker.domain.calendar import add_months, add_working_days
from tracker.domain.dates import describe_day, format_long, format_uk
from tracker.domain.deadlines import computed_due, given_due_note
from tracker.domain.funding import YearGap, year_gaps
from tracker.domain.money import format_gbp
from tracker.domain.procurement import ACT_DECISION_TEXT, ACT_RULES
from tracker.domain.types import (
    AT_RISK_FUNDING,
    LAPSING_KINDS,
    PASSING_KINDS,
    Contract,
    DerivationRules,
    DerivedMilestone,
    ExtensionOption,
    ExtensionStatus,
    FundingLine,
    MilestoneKind,
    MilestoneStatus,
)

#: The key of milestones tied to the contract's (current) end: stays the same when the
#: end moves, so an activated extension re-dates the milestone instead of replacing it.
END_KEY = "end"

#: What happens if each kind of milestone is missed: shown in emails and the CLI.
DECISION_TEXT: dict[MilestoneKind, str] = {
    MilestoneKind.CONTRACT_START: "the service is not in place on the day it was promised",
    MilestoneKind.CONTRACT_END: "the service stops and the provider's staff and clients go",
    MilestoneKind.EXTENSION_NOTICE: (
        "the option lapses and the contract ends on its current end date"
    ),
    MilestoneKind.CONTINUATION_DECISION: (
        "staff start to leave and clients are stranded mid-programme"
    ),
    MilestoneKind.LAST_REFERRAL: (
        "clients referred later cannot finish the programme before the contract ends"
    ),
    MilestoneKind.FUNDING_CONFIRMATION: "the commissioner carries the cost",
    MilestoneKind.PROCUREMENT: "the service cannot be in place by the start date",
    MilestoneKind.PUBLICATION: (
        "the decision record is published late, in breach of the 3-working-day rule"
    ),
    MilestoneKind.GRANT_AGREEMENT: "grant money cannot be claimed without the signed agreement",
    MilestoneKind.REVIEW: "the contract runs on without anyone checking it still delivers",
    MilestoneKind.CUSTOM: "the commitment recorded here is not met",
    **ACT_DECISION_TEXT,
}


def _months_before(end: date, months: int) -> tuple[date, str]:
    return computed_due(add_months(end, -months), f"{format_long(end)} less {months} months")


# -- extension options -------------------------------------------------------------------


def pending_options(contract: Contract) -> list[ExtensionOption]:
    """Available options that would still lengthen the contract, in the order they apply.

    An option whose ``until`` is not after the current end is spent, whatever its status.
    """
    return sorted(
        (
            option
            for option in contract.extensions
            if option.status == ExtensionStatus.AVAILABLE and option.until > contract.end
        ),
        key=lambda option: (option.until, option.seq),
    )


def next_option(contract: Contract) -> ExtensionOption | None:
    """The option a decision is due on now: the first pending one, if any."""
    pending = pending_options(contract)
    return pending[0] if pending else None


def option_key(option: ExtensionOption) -> str:
    """The extension-notice milestone's key: the option's number, which never changes."""
    return f"option:{option.seq}"


def option_notice_due(option: ExtensionOption, extends_from: date) -> tuple[date, str]:
    """When notice to take ``option`` is due, and the note explaining the date.

    ``notice_by`` is contractual and kept as given; else the end the option extends
    from, less its notice period, moved back to a working day. The register exports this
    date, so it must be the extension-notice milestone's own.
    """
    if option.notice_by is not None:
        return option.notice_by, given_due_note(option.notice_by, "serve notice")
    days = option.notice_days or 0
    computed = extends_from - timedelta(days=days)
    return computed_due(computed, f"{format_long(extends_from)} less {days} days")


def _option_notice(option: ExtensionOption, extends_from: date) -> DerivedMilestone:
    """Notice for one option, counted back from the end in force when it would be taken."""
    title = f"Extension notice: activate the option to {format_uk(option.until)} or plan the exit"
    due, note = option_notice_due(option, extends_from)
    return DerivedMilestone(
        kind=MilestoneKind.EXTENSION_NOTICE, key=option_key(option), due=due, title=title, note=note
    )


def extension_notices(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """One notice per pending option: activate it, or plan the exit.

    A later option's notice period runs from the end the earlier option would give, so
    its due date does not move when the earlier option is activated. An option with no
    notice period recorded is due by the end it extends from.
    """
    notices = []
    extends_from = contract.end
    for option in pending_options(contract):
        notices.append(_option_notice(option, extends_from))
        extends_from = option.until
    return notices


# -- the other rules ---------------------------------------------------------------------


def _end_milestone(kind: MilestoneKind, *, due: date, title: str, note: str) -> DerivedMilestone:
    """A milestone tied to the contract's current end (its key survives the end moving)."""
    return DerivedMilestone(kind=kind, key=END_KEY, due=due, title=title, note=note)


def contract_dates(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """Start and end: dated facts, kept exactly as agreed."""
    return [
        DerivedMilestone(
            kind=MilestoneKind.CONTRACT_START,
            key="start",
            due=contract.start,
            title="Contract starts",
        ),
        DerivedMilestone(
            kind=MilestoneKind.CONTRACT_END, key=END_KEY, due=contract.end, title="Contract ends"
        ),
    ]


def continuation_decision(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """With no option left to take, decide the future before staff start to leave.

    Due at the start of the staffing-risk window: in the Lancashire record staff were
    already leaving seven months before the end.
    """
    if next_option(contract) is not None:
        return []
    due, note = _months_before(contract.end, rules.staffing_risk_months)
    title = "Continuation decision: re-procure, extend by variation or decommission"
    return [_end_milestone(MilestoneKind.CONTINUATION_DECISION, due=due, title=title, note=note)]


def last_referral(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """The last day a new client can start the intervention and finish before the end."""
    months = contract.intervention_months
    if not months:
        return []
    due, note = _months_before(contract.end, months)
    title = (
        f"Last referral: a {months}-month intervention started after this "
        "cannot finish before the end"
    )
    return [_end_milestone(MilestoneKind.LAST_REFERRAL, due=due, title=title, note=note)]


def _line_confirmation(line: FundingLine, confirm_by: date) -> DerivedMilestone:
    title = f"Confirm funding: {line.source} {line.year} ({format_gbp(line.amount)})"
    note = given_due_note(confirm_by, "confirm")
    return DerivedMilestone(
        kind=MilestoneKind.FUNDING_CONFIRMATION,
        key=f"line:{line.key}",
        due=confirm_by,
        title=title,
        note=note,
    )


def _year_title(gap: YearGap) -> str:
    parts = [f"gap {format_gbp(gap.gap)}" if gap.gap is not None else "cost unknown"]
    if gap.at_risk > 0:
        parts.append(f"{format_gbp(gap.at_risk)} at risk")
    return f"Secure {gap.year} funding or accept the liability ({', '.join(parts)})"


def _year_confirmation(gap: YearGap, lead_days: int) -> DerivedMilestone:
    start = gap.year.start
    due, note = computed_due(
        start - timedelta(days=lead_days), f"{format_long(start)} less {lead_days} days"
    )
    return DerivedMilestone(
        kind=MilestoneKind.FUNDING_CONFIRMATION,
        key=f"year:{gap.year}",
        due=due,
        title=_year_title(gap),
        note=note,
    )


def funding_confirmations(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """Each unconfirmed line's ``confirm_by``, and a lead before each term year that is
    not covered: a gap, or funding merely expected or pledged."""
    lines = [
        _line_confirmation(line, line.confirm_by)
        for line in contract.funding
        if line.confirm_by is not None and line.status in AT_RISK_FUNDING
    ]
    years = [
        _year_confirmation(gap, rules.funding_lead_days)
        for gap in year_gaps(contract)
        if gap.in_term and gap.needs_decision
    ]
    return lines + years


def publications(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """Each decision record must be published N working days after the decision."""
    milestones = []
    for decision in contract.decisions:
        due = publication_due(decision.decided_on, decision.publish_within_working_days)
        title = f"Publish decision {decision.ref}" + (
            f": {decision.title}" if decision.title else ""
        )
        note = (
            f"decided {describe_day(decision.decided_on)}; "
            f"{decision.publish_within_working_days} working days to publish"
        )
        milestones.append(
            DerivedMilestone(
                kind=MilestoneKind.PUBLICATION,
                key=publication_key(decision.ref),
                due=due,
                title=title,
                note=note,
            )
        )
    return milestones


Rule = Callable[[Contract, DerivationRules], list[DerivedMilestone]]

#: Every derivation rule; each owns one kind (the start/end pair shares a rule).
RULES: tuple[Rule, ...] = (
    contract_dates,
    extension_notices,
    continuation_decision,
    last_referral,
    funding_confirmations,
    publications,
    *ACT_RULES,
)


def derive_milestones(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """Every derived milestone of the contract, sorted by (due, kind, key)."""
    derived = [milestone for rule in RULES for milestone in rule(contract, rules)]
    return sorted(derived, key=lambda m: (m.due, m.kind, m.key))


def publication_key(decision_ref: str) -> str:
    """The stored key of the milestone that publishes decision record ``decision_ref``."""
    return f"decision:{decision_ref}"


def publication_due(decided_on: date, working_days: int) -> date:
    """When a decision record must be published: N working days after the decision.

    Approved Thursday 22 Dec 2022 with 3 working days: due Thursday 29 Dec 2022.
    """
    return add_working_days(decided_on, working_days)


def snooze_holds(snoozed_until: date | None, today: date) -> bool:
    """A snooze holds through the day before ``snoozed_until``: on that day it is over."""
    return snoozed_until is not None and snoozed_until > today


def closes_on(kind: MilestoneKind, due: date, contract_end: date) -> date | None:
    """The last day a milestone can still be acted on, when time alone closes it.

    A passing kind (start, end, last referral) closes on its own day: once it has gone
    there is nothing left to do, so it is never overdue. A lapsing kind (an extension
    notice) stays overdue until the contract ends: an option not exercised by then has
    lapsed. Other decisions wait for a person (None).
    """
    if kind in PASSING_KINDS:
        return due
    if kind in LAPSING_KINDS:
        return contract_end
    return None


def closed_by_time(kind: MilestoneKind, due: date, today: date, contract_end: date) -> str | None:
    """Why time has closed a milestone (``passed on 28 Mar 2024``), or None while it is
    still open to action. The note ``show`` gives a milestone nobody had to close."""
    last = closes_on(kind, due, contract_end)
    if last is None or today <= last:
        return None
    if kind in PASSING_KINDS:
        return f"passed on {format_uk(due)}"
    return f"the option lapsed unexercised: the contract ended on {format_uk(contract_end)}"


def effective_status(
    kind: MilestoneKind, status: MilestoneStatus, due: date, today: date, *, contract_end: date
) -> MilestoneStatus:
    """An open milestone that time has closed (see :func:`closes_on`) is done; the
    others keep their stored status (decisions wait for a person)."""
    if status == MilestoneStatus.OPEN and closed_by_time(kind, due, today, contract_end):
        return MilestoneStatus.DONE
    return status
