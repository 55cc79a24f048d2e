"""The words the CLI, the reminders and the digest share: kind labels, commands, "in 3 days".

A reader who gets a reminder on Monday and the digest on Tuesday must be told the
same command for the same decision, and a command printed in an email must be one the
CLI accepts as written. So every such text is built here, once, and the three
callers only pick what to show. Refs are shell-quoted: a ref may hold a space or a
quote, and a pasted command must still name the right contract.
"""

from __future__ import annotations

import shlex
from datetime import date, timedelta
from decimal import Decimal

from tracker.domain.dates import format_uk
from tracker.domain.money import format_gbp
from tracker.domain.text import yes_no
from tracker.domain.types import STATUTORY_KINDS, MilestoneKind, Regime

#: How far ahead the suggested snooze runs: a week, the digest's own rhythm.
SNOOZE_DAYS = 7


def kind_label(kind: MilestoneKind) -> str:
    """``Extension notice`` for ``extension_notice``: the kind as a heading says it."""
    return KIND_LABELS[kind]


KIND_LABELS: dict[MilestoneKind, str] = {
    kind: kind.value.replace("_", " ").capitalize() for kind in MilestoneKind
} | {MilestoneKind.CONTRACT_PUBLICATION: "Publication of the contract"}

#: How a statutory duty is marked where decisions are listed (the digest, reminders).
STATUTORY_MARK = "statutory duty"


def decision_label(kind: MilestoneKind) -> str:
    """The kind as a reminder or the digest heads it: a duty the law imposes is marked
    (``Termination notice (statutory duty)``), so it is not read as good practice."""
    label = kind_label(kind)
    return f"{label} ({STATUTORY_MARK})" if kind in STATUTORY_KINDS else label


_REGIME_NAMES = {
    Regime.PA2023: "Procurement Act 2023",
    Regime.PCR2015: "Public Contracts Regulations 2015",
    Regime.NONE: "outside procurement law",
}


def regime_phrase(regime: str, light_touch: bool, entered_into: date | None) -> str:
    """``Procurement Act 2023, light-touch, entered into 03/03/2025``: what ``show`` says."""
    parts = [_REGIME_NAMES[Regime(regime)]]
    if light_touch:
        parts.append("light-touch")
    if entered_into is not None:
        parts.append(f"entered into {format_uk(entered_into)}")
    return ", ".join(parts)


def done_by_id_command(milestone_id: int) -> str:
    """``tracker milestone done 42``: closes one milestone whatever else its contract has."""
    return f"tracker milestone done {milestone_id}"


def close_command(ref: str, kind: MilestoneKind, milestone_id: int, *, ambiguous: bool) -> str:
    """The command that marks a decision done: by ref and kind, or by id when the
    contract has more than one open milestone of that kind (``ambiguous``)."""
    if ambiguous:
        return done_by_id_command(milestone_id)
    return f"tracker milestone done {shlex.quote(ref)} {kind.value}"


def snooze_until(today: date) -> date:
    """The concrete day a suggested snooze runs to: a week from today."""
    return today + timedelta(days=SNOOZE_DAYS)


def snooze_command(ref: str, kind: MilestoneKind, *, today: date) -> str:
    """The command that holds a decision's reminders for a week, ready to paste."""
    until = snooze_until(today).isoformat()
    return f'tracker milestone snooze {shlex.quote(ref)} {kind.value} --until {until} --note "why"'


def decision_link_label(ref: str, title: str | None) -> str:
    """``Decision 20/2024: Extension of DRIVE``: how a published decision record is named."""
    return f"Decision {ref}" + (f": {title}" if title else "")


def days_phrase(days: int) -> str:
    """``in 3 days``, ``tomorrow``, ``today``, ``1 day overdue``, ``5 days overdue``."""
    if days > 1:
        return f"in {days} days"
    if days == 1:
        return "tomorrow"
    if days == 0:
        return "today"
    return f"{-days} day overdue" if days == -1 else f"{-days} days overdue"


def days_ago_phrase(days: int) -> str:
    """``7 days ago`` for ``days_left=-7``: how an overdue subject counts back."""
    if days >= 0:
        return days_phrase(days)
    return "1 day ago" if days == -1 else f"{-days} days ago"


def shown_value(value: object, *, none: str = "-") -> str:
    """A field's value as a change report shows it (the history of ``edit``, and
    ``import --update``'s per-field lines): UK dates, pounds, yes/no, lists joined,
    ``none`` for an empty value."""
    if value is None or value == "" or value == ():
        return none
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, date):
        return format_uk(value)
    if isinstance(value, Decimal):
        return format_gbp(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
