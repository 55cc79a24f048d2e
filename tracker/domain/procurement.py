"""The Procurement Act 2023's notices: what a contract let under the Act must publish, by when.

Since 24 February 2025 a contract procured under the Act (``Regime.PA2023``) carries
publication duties that run from dates the tracker holds: the day it was entered into,
its value (the recorded value is taken as the Act's estimated value), its end. Each
rule here returns the milestones of one kind; contracts under the Public Contracts
Regulations 2015, grants and contracts outside procurement law get none.

Periods "beginning with" a day count that day as day 1 (entered into 3 March 2025, 30
days: by 1 April 2025). A computed deadline on a weekend or bank holiday moves back to
the working day before with its note (:func:`tracker.domain.deadlines.computed_due`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from tracker.domain.calendar import add_months, working_days_before
from tracker.domain.dates import describe_day, format_long, format_uk
from tracker.domain.deadlines import computed_due
from tracker.domain.types import (
    Contract,
    DerivationRules,
    DerivedMilestone,
    MilestoneKind,
    Regime,
)

#: The Act's line for publishing the contract and assessing its KPIs: a value *over* it.
FIVE_MILLION = Decimal("5000000")
#: The key of the notices counted from the day the contract was entered into.
ENTERED_KEY = "entered"
#: The key of the notices tied to the contract's end (it moves with an extension).
END_KEY = "end"
#: Working days of the voluntary standstill before a modification (s.76).
STANDSTILL_WORKING_DAYS = 8

#: What happens if each of the Act's notices is missed: shown in emails and the CLI.
ACT_DECISION_TEXT: dict[MilestoneKind, str] = {
    MilestoneKind.CONTRACT_DETAILS_NOTICE: (
        "the contract details notice is late: a breach of s.53(1) of the Procurement Act "
        "2023 the authority has to explain"
    ),
    MilestoneKind.CONTRACT_PUBLICATION: (
        "the copy of the contract is published late: a breach of s.53(3) of the "
        "Procurement Act 2023 the authority has to explain"
    ),
    MilestoneKind.PERFORMANCE_ASSESSMENT: (
        "performance goes unassessed against the KPIs: a breach of s.71(2) of the "
        "Procurement Act 2023, and no contract performance notice can follow"
    ),
    MilestoneKind.TERMINATION_NOTICE: (
        "the contract termination notice is late: a breach of s.80 of the Procurement "
        "Act 2023 the authority has to explain"
    ),
    MilestoneKind.CHANGE_NOTICE: (
        "the contract is modified without a change notice: a breach of s.75 of the "
        "Procurement Act 2023 (and, with a standstill planned, s.76's standstill is lost)"
    ),
}


def under_the_act(contract: Contract) -> bool:
    """Whether the Act's notices apply: let under the Act, with the day it was entered into."""
    return contract.regime == Regime.PA2023 and contract.entered_into is not None


def over_five_million(value: Decimal | None) -> bool:
    """The Act's line: a value over £5,000,000 (£5,000,000 exactly is not over it)."""
    return value is not None and value > FIVE_MILLION


def beginning_with(day: date, days: int) -> date:
    """The last day of the period of ``days`` days beginning with ``day`` (day 1 is ``day``)."""
    return day + timedelta(days=days - 1)


def _within(
    kind: MilestoneKind, key: str, day: date, days: int, what: str, title: str
) -> DerivedMilestone:
    """A notice due within ``days`` days beginning with ``day`` (``what`` names that day)."""
    reckoning = f"{days} days beginning with {format_long(day)}, {what}"
    due, note = computed_due(beginning_with(day, days), reckoning)
    return DerivedMilestone(kind=kind, key=key, due=due, title=title, note=note)


def contract_details_notice(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """s.53(1): within 30 days beginning with the day entered into; 120 if light-touch."""
    if not under_the_act(contract) or contract.entered_into is None:
        return []
    days = 120 if contract.light_touch else 30
    title = f"Contract details notice (Procurement Act 2023 s.53(1)): publish within {days} days"
    kind = MilestoneKind.CONTRACT_DETAILS_NOTICE
    return [
        _within(
            kind, ENTERED_KEY, contract.entered_into, days, "the day it was entered into", title
        )
    ]


def contract_publication(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """s.53(3): a copy of a contract over £5m within 90 days beginning with the day it
    was entered into; 180 if light-touch."""
    if not under_the_act(contract) or contract.entered_into is None:
        return []
    if not over_five_million(contract.value):
        return []
    days = 180 if contract.light_touch else 90
    title = (
        "Publish a copy of the contract (Procurement Act 2023 s.53(3), value over "
        f"£5,000,000): within {days} days"
    )
    kind = MilestoneKind.CONTRACT_PUBLICATION
    return [
        _within(
            kind, ENTERED_KEY, contract.entered_into, days, "the day it was entered into", title
        )
    ]


def _assessment(key: str, computed: date, reckoning: str, when: str) -> DerivedMilestone:
    due, note = computed_due(computed, reckoning)
    title = f"Assess performance against the KPIs (Procurement Act 2023 s.71(2)): {when}"
    return DerivedMilestone(
        kind=MilestoneKind.PERFORMANCE_ASSESSMENT, key=key, due=due, title=title, note=note
    )


def performance_assessments(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """s.71(2) with s.52: a contract over £5m, not light-touch, is assessed against its
    KPIs at least once in every 12 months (by the last day of each contract year that
    ends before the contract does) and on its end (expiry, termination or set-aside)."""
    if not under_the_act(contract) or contract.light_touch:
        return []
    if not over_five_million(contract.value):
        return []
    milestones = []
    year = 1
    while (last_day := add_months(contract.start, 12 * year) - timedelta(days=1)) < contract.end:
        reckoning = f"the last day of year {year} from {format_long(contract.start)}"
        milestones.append(_assessment(f"year:{year}", last_day, reckoning, f"year {year}"))
        year += 1
    reckoning = f"the contract's end, {format_long(contract.end)}"
    milestones.append(_assessment(END_KEY, contract.end, reckoning, "on the contract's end"))
    return milestones


def termination_notice(contract: Contract, rules: DerivationRules) -> list[DerivedMilestone]:
    """s.80: within 30 days beginning with the day the contract ends, whether it expires,
    is terminated or is set aside (``tracker terminate`` moves the end to that day)."""
    if not under_the_act(contract):
        return []
    title = (
        "Contract termination notice (Procurement Act 2023 s.80): publish within 30 days of the end"
    )
    kind = MilestoneKind.TERMINATION_NOTICE
    return [_within(kind, END_KEY, contract.end, 30, "the day the contract ends", title)]


def change_notice_due(before: date, *, standstill: bool) -> tuple[date, str, str]:
    """s.75: a change notice goes before the modification: the working day before it, or
    with the voluntary standstill (s.76) 8 working days before. Returns (due, title, note).

    Counted in working days, so there is nothing to move back: the due day is one.
    """
    days = STANDSTILL_WORKING_DAYS if standstill else 1
    due = working_days_before(before, days)
    title = (
        "Contract change notice (Procurement Act 2023 s.75): publish before the "
        f"modification on {format_uk(before)}"
    )
    if standstill:
        note = (
            f"with the voluntary standstill (s.76): {days} working days before the "
            f"modification on {describe_day(before)}"
        )
    else:
        note = f"the working day before the modification on {describe_day(before)}"
    return due, title, note


Rule = Callable[[Contract, DerivationRules], list[DerivedMilestone]]

#: The Act's derived notices; ``tracker.domain.milestones.RULES`` runs them with the others.
ACT_RULES: tuple[Rule, ...] = (
    contract_details_notice,
    contract_publication,
    performance_assessments,
    termination_notice,
)
