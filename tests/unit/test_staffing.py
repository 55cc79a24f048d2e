"""Staffing risk: before the window, inside it undecided, decided, ended, after activation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.staffing import staffing_risk
from tracker.domain.types import (
    Contract,
    DerivationRules,
    ExtensionOption,
    ExtensionStatus,
    MilestoneKind,
    MilestoneState,
    MilestoneStatus,
)

RULES = DerivationRules()
NOTICE = MilestoneKind.EXTENSION_NOTICE
CONTINUATION = MilestoneKind.CONTINUATION_DECISION
OPTION = ExtensionOption(seq=1, until=date(2026, 3, 31), notice_by=date(2024, 9, 30))


def lancashire(**changes: object) -> Contract:
    base = Contract(
        "LANCS-DRIVE",
        "Drive",
        "Victim Support",
        date(2023, 8, 1),
        date(2025, 3, 31),
        original_end=date(2025, 3, 31),
        extensions=(OPTION,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def activated() -> Contract:
    """The store's view after ``tracker extend``: end moved, option activated."""
    return lancashire(
        end=date(2026, 3, 31), extensions=(replace(OPTION, status=ExtensionStatus.ACTIVATED),)
    )


def state(kind: MilestoneKind, key: str, status: MilestoneStatus) -> MilestoneState:
    return MilestoneState(kind, key, date(2024, 9, 30), status)


def test_lancashire_on_the_decision_day_is_at_risk() -> None:
    open_notice = [state(NOTICE, "option:1", MilestoneStatus.OPEN)]
    risk = staffing_risk(lancashire(), open_notice, RULES, date(2024, 9, 2))
    assert risk.at_risk
    assert risk.state == "at_risk"
    assert risk.window_opens == date(2024, 6, 30)
    assert risk.deciding is NOTICE
    assert not risk.decided
    assert risk.days_to_end == 210
    assert risk.summary == (
        "AT STAFFING RISK since 30 Jun 2024: 210 days to the end (31 Mar 2025) "
        "and the extension notice is not done"
    )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 6, 29), "not_yet"),
        (date(2024, 6, 30), "at_risk"),
        (date(2025, 3, 31), "at_risk"),
        (date(2025, 4, 1), "ended"),
    ],
)
def test_window_edges(today: date, expected: str) -> None:
    risk = staffing_risk(lancashire(), [], RULES, today)
    assert risk.state == expected
    assert risk.at_risk is (expected == "at_risk")


def test_before_the_window() -> None:
    risk = staffing_risk(lancashire(), [], RULES, date(2024, 1, 15))
    assert risk.summary == "Not yet: the staffing-risk window opens 30 Jun 2024"
    assert not risk.at_risk


def test_done_deciding_milestone_removes_the_risk() -> None:
    done = [state(NOTICE, "option:1", MilestoneStatus.DONE)]
    risk = staffing_risk(lancashire(), done, RULES, date(2024, 9, 2))
    assert (risk.at_risk, risk.decided, risk.state) == (False, True, "decided")
    assert risk.summary.startswith("Decided: the extension notice is done")


def test_cancelled_or_unrelated_done_milestones_do_not_decide() -> None:
    milestones = [
        state(NOTICE, "option:1", MilestoneStatus.CANCELLED),
        state(NOTICE, "option:2", MilestoneStatus.DONE),
        state(CONTINUATION, "end", MilestoneStatus.DONE),
    ]
    risk = staffing_risk(lancashire(), milestones, RULES, date(2024, 9, 2))
    assert risk.at_risk and not risk.decided


def test_after_the_end() -> None:
    risk = staffing_risk(lancashire(), [], RULES, date(2025, 6, 1))
    assert risk.state == "ended" and not risk.at_risk
    assert risk.days_to_end == -62
    assert risk.summary == "Ended 31 Mar 2025"


def test_after_activation_the_window_follows_the_new_end() -> None:
    contract = activated()
    calm = staffing_risk(contract, [], RULES, date(2024, 9, 2))
    assert calm.state == "not_yet"
    assert calm.window_opens == date(2025, 6, 30)
    assert calm.deciding is CONTINUATION

    open_decision = [state(CONTINUATION, "end", MilestoneStatus.OPEN)]
    later = staffing_risk(contract, open_decision, RULES, date(2025, 7, 1))
    assert later.at_risk
    assert later.summary.endswith("and the continuation decision is not done")

    done = [state(CONTINUATION, "end", MilestoneStatus.DONE)]
    assert staffing_risk(contract, done, RULES, date(2025, 7, 1)).state == "decided"


def test_the_window_length_comes_from_the_rules() -> None:
    risk = staffing_risk(
        lancashire(), [], DerivationRules(staffing_risk_months=6), date(2024, 9, 2)
    )
    assert risk.window_opens == date(2024, 9, 30)
    assert risk.state == "not_yet"


@given(st.dates(date(2022, 1, 1), date(2027, 12, 31)), st.sampled_from(MilestoneStatus))
def test_at_risk_exactly_inside_the_window_while_undecided(
    today: date, status: MilestoneStatus
) -> None:
    risk = staffing_risk(lancashire(), [state(NOTICE, "option:1", status)], RULES, today)
    inside = date(2024, 6, 30) <= today <= date(2025, 3, 31)
    assert risk.at_risk is (inside and status is not MilestoneStatus.DONE)
    assert risk.days_to_end == (date(2025, 3, 31) - today).days


#: (end, window opens, its eve) worked out by hand for the 9-month window; no extension
#: option, so the continuation decision decides.
WINDOWS = [
    (date(2025, 3, 31), date(2024, 6, 30), date(2024, 6, 29)),  # Lancashire: no 31 June
    (date(2025, 11, 30), date(2025, 2, 28), date(2025, 2, 27)),  # no 30 February
    (date(2028, 11, 30), date(2028, 2, 29), date(2028, 2, 28)),  # a leap year
    (date(2025, 12, 31), date(2025, 3, 31), date(2025, 3, 30)),
    (date(2025, 10, 1), date(2025, 1, 1), date(2024, 12, 31)),  # across the new year
]
#: The day after each end, by hand.
DAY_AFTER = {
    date(2025, 3, 31): date(2025, 4, 1),
    date(2025, 11, 30): date(2025, 12, 1),
    date(2028, 11, 30): date(2028, 12, 1),
    date(2025, 12, 31): date(2026, 1, 1),
    date(2025, 10, 1): date(2025, 10, 2),
}


@pytest.mark.parametrize(("end", "opens", "eve"), WINDOWS, ids=lambda d: str(d))
def test_the_window_s_first_and_last_day_worked_out_by_hand(
    end: date, opens: date, eve: date
) -> None:
    contract = lancashire(end=end, original_end=end, extensions=())
    open_decision = [state(CONTINUATION, "end", MilestoneStatus.OPEN)]
    done = [state(CONTINUATION, "end", MilestoneStatus.DONE)]
    after = DAY_AFTER[end]
    undecided = {
        day: staffing_risk(contract, open_decision, RULES, day).state
        for day in (eve, opens, end, after)
    }
    assert undecided == {eve: "not_yet", opens: "at_risk", end: "at_risk", after: "ended"}
    decided = {
        day: staffing_risk(contract, done, RULES, day).state for day in (eve, opens, end, after)
    }
    assert decided == {eve: "decided", opens: "decided", end: "decided", after: "ended"}
    risk = staffing_risk(contract, open_decision, RULES, opens)
    assert (risk.window_opens, risk.deciding, risk.at_risk) == (opens, CONTINUATION, True)
    assert risk.summary.startswith(f"AT STAFFING RISK since {opens.day} ")
    assert staffing_risk(contract, open_decision, RULES, end).days_to_end == 0
    assert staffing_risk(contract, open_decision, RULES, after).days_to_end == -1


@pytest.mark.parametrize("status", [MilestoneStatus.OPEN, MilestoneStatus.DONE], ids=str)
def test_lancashire_s_edges_with_the_notice_open_or_done(status: MilestoneStatus) -> None:
    """With its extension option available, the notice decides; "decided" wins over "not
    yet" and "at risk", never over "ended"."""
    notice = [state(NOTICE, "option:1", status)]
    days = (date(2024, 6, 29), date(2024, 6, 30), date(2025, 3, 31), date(2025, 4, 1))
    states = [staffing_risk(lancashire(), notice, RULES, day).state for day in days]
    if status is MilestoneStatus.DONE:
        assert states == ["decided", "decided", "decided", "ended"]
    else:
        assert states == ["not_yet", "at_risk", "at_risk", "ended"]
