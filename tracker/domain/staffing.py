"""Staffing risk: is the contract near enough its end, undecided, for staff to leave?

In the Lancashire record the provider's staff began leaving seven months before the
end while the extension was still undecided; once they go the service cannot be
rebuilt quickly, and clients are stranded mid-programme. So a contract is flagged from
the day it enters the staffing-risk window before its current end until its deciding
milestone is done: the notice on the next extension option where one is available,
otherwise the continuation decision. Only DONE counts as decided: a cancelled deciding
milestone means nobody decided. Activating an extension moves the end, and the window
with it (the caller passes the contract with its new end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tracker.domain.calendar import add_months
from tracker.domain.dates import format_uk
from tracker.domain.milestones import END_KEY, next_option, option_key
from tracker.domain.types import (
    Contract,
    DerivationRules,
    MilestoneKind,
    MilestoneState,
    MilestoneStatus,
)

AT_RISK = "at_risk"
DECIDED = "decided"
NOT_YET = "not_yet"
ENDED = "ended"


@dataclass(frozen=True, kw_only=True)
class StaffingRisk:
    """The staffing-risk position of one contract on one day.

    ``state`` is one of ``at_risk``, ``decided``, ``not_yet``, ``ended``; ``at_risk`` is
    True exactly when ``state == "at_risk"``. ``days_to_end`` is negative after the end.
    """

    at_risk: bool
    window_opens: date
    deciding: MilestoneKind | None
    decided: bool
    state: str
    days_to_end: int
    summary: str


def deciding_milestone(contract: Contract) -> tuple[MilestoneKind, str]:
    """The (kind, key) of the milestone whose completion removes the risk."""
    option = next_option(contract)
    if option is not None:
        return MilestoneKind.EXTENSION_NOTICE, option_key(option)
    return MilestoneKind.CONTINUATION_DECISION, END_KEY


def _is_done(milestones: Sequence[MilestoneState], kind: MilestoneKind, key: str) -> bool:
    """A milestone not found among ``milestones`` is not done: absence proves nothing."""
    return any(
        m.kind == kind and m.key == key and m.status == MilestoneStatus.DONE for m in milestones
    )


def _state(today: date, end: date, window_opens: date, decided: bool) -> str:
    if today > end:
        return ENDED
    if decided:
        return DECIDED
    if today < window_opens:
        return NOT_YET
    return AT_RISK


def _summary(state: str, kind: MilestoneKind, end: date, window_opens: date, days: int) -> str:
    decision = kind.value.replace("_", " ")
    if state == ENDED:
        return f"Ended {format_uk(end)}"
    if state == DECIDED:
        return f"Decided: the {decision} is done ({days} days to the end, {format_uk(end)})"
    if state == NOT_YET:
        return f"Not yet: the staffing-risk window opens {format_uk(window_opens)}"
    return (
        f"AT STAFFING RISK since {format_uk(window_opens)}: {days} days to the end "
        f"({format_uk(end)}) and the {decision} is not done"
    )


def staffing_risk(
    contract: Contract,
    milestones: Sequence[MilestoneState],
    rules: DerivationRules,
    today: date,
) -> StaffingRisk:
    """Where the contract stands on ``today`` against its staffing-risk window."""
    window_opens = add_months(contract.end, -rules.staffing_risk_months)
    kind, key = deciding_milestone(contract)
    decided = _is_done(milestones, kind, key)
    days = (contract.end - today).days
    state = _state(today, contract.end, window_opens, decided)
    return StaffingRisk(
        at_risk=state == AT_RISK,
        window_opens=window_opens,
        deciding=kind,
        decided=decided,
        state=state,
        days_to_end=days,
        summary=_summary(state, kind, contract.end, window_opens, days),
    )
