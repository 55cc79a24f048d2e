"""Reminder planning: a milestone and its policy -> which emails go to whom, and when.

Pure functions (no clock, no I/O). A reminder is sent at 09:00 London on its lead day,
or on the working day before when that day is a weekend or bank holiday: a reminder
that slips to Monday would arrive after a Monday deadline's lead had gone.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar

from tracker.domain.calendar import LONDON, previous_working_day
from tracker.domain.milestones import closes_on, effective_status
from tracker.domain.types import MilestoneKind, MilestoneStatus

SEND_TIME = time(9, 0)


@dataclass(frozen=True)
class ReminderPolicy:
    """Leads (days before due, most distant first), escalation lead, nag interval (0: none)
    and how many nags at most: a reminder that never stops is one people stop reading."""

    leads: tuple[int, ...]
    escalate_from: int
    nag_days: int
    max_nags: int


@dataclass(frozen=True, kw_only=True)
class PlannedReminder:
    lead: int  # days before the due date; negative for a nag (days overdue)
    recipient: str
    role: str  # owner | sponsor
    send_at: datetime  # aware UTC


def nine_am_london(day: date) -> datetime:
    """09:00 London on ``day`` as an aware UTC time: the hour every reminder is sent and
    every snooze ends, whatever the clocks do (08:00 UTC in summer, 09:00 in winter)."""
    return datetime.combine(day, SEND_TIME, tzinfo=LONDON).astimezone(UTC)


def send_time(day: date) -> datetime:
    """09:00 London on ``day``, or on the working day before it, as an aware UTC time."""
    return nine_am_london(previous_working_day(day))


def normalise_leads(values: Iterable[int]) -> tuple[int, ...]:
    """Lead days without repeats, most distant first: the order reminders go out in, so
    a policy written "7, 30, 7" plans the same reminders as "30, 7"."""
    return tuple(sorted(set(values), reverse=True))


def remindable(
    kind: MilestoneKind, status: str, due: date, today: date, *, contract_end: date
) -> bool:
    """Whether a milestone still gets reminders: only while it is open, as
    ``effective_status`` sees it (a milestone time has closed is done)."""
    current = effective_status(kind, MilestoneStatus(status), due, today, contract_end=contract_end)
    return current == MilestoneStatus.OPEN


def released_through(now: datetime) -> date:
    """The last day whose 09:00 London has come: a snooze "until" that day is over.

    A snooze until Wednesday holds reminders until Wednesday 09:00, not midnight: held
    reminders are released at the same hour every reminder is sent.
    """
    local = now.astimezone(LONDON)
    return local.date() if local.time() >= SEND_TIME else local.date() - timedelta(days=1)


def recipients_for(
    lead: int, policy: ReminderPolicy, owner: str | None, sponsor: str | None
) -> list[tuple[str, str]]:
    """The owner always (the sponsor stands in when there is no owner); the sponsor is
    copied from the escalation lead on, and on every nag."""
    people: list[tuple[str, str]] = []
    if owner:
        people.append((owner, "owner"))
    if sponsor and sponsor != owner and (owner is None or lead <= policy.escalate_from):
        people.append((sponsor, "sponsor"))
    return people


def plan_leads(
    due: date, policy: ReminderPolicy, owner: str | None, sponsor: str | None
) -> list[PlannedReminder]:
    """Every lead reminder for a milestone due on ``due``, past ones included.

    Leads whose time has already passed are planned too: the sweep collapses all due
    leads of one milestone and recipient into one message, so a contract added late, or
    a tracker that was down, still warns once instead of never.
    """
    planned = []
    for lead in normalise_leads(policy.leads):
        when = send_time(due - timedelta(days=lead))
        planned += reminders_for(lead, when, policy, owner, sponsor)
    return planned


def reminders_for(
    lead: int, send_at: datetime, policy: ReminderPolicy, owner: str | None, sponsor: str | None
) -> list[PlannedReminder]:
    """One reminder per recipient of a lead (or a nag) going out at ``send_at``."""
    people = recipients_for(lead, policy, owner, sponsor)
    return [
        PlannedReminder(lead=lead, recipient=r, role=role, send_at=send_at) for r, role in people
    ]


def nag_count(kind: MilestoneKind, due: date, policy: ReminderPolicy, contract_end: date) -> int:
    """How many nags an overdue milestone gets: ``max_nags`` every ``nag_days``, none on
    a day time has closed it (:func:`closes_on`): so none for a passing kind, and none
    for an extension notice after the contract's end."""
    if policy.nag_days <= 0:
        return 0
    last = closes_on(kind, due, contract_end)
    if last is None:
        return policy.max_nags
    return max(0, min(policy.max_nags, (last - due).days // policy.nag_days))


def nags_left(lead: int, nag_days: int, count: int) -> int:
    """How many nags are still to come after the nag at ``lead`` (0: it is the last)."""
    if lead >= 0 or nag_days <= 0:
        return count
    return max(0, count - (-lead) // nag_days)


def is_escalation(
    lead: int, role: str, policy: ReminderPolicy, *, count: int, people: Sequence[tuple[str, str]]
) -> bool:
    """Whether this copy of a nag is the escalation: the last of the ``count`` nags, to
    the sponsor, or to the owner when no sponsor is told (``people``: the nag's
    recipients and roles, as :func:`recipients_for` gives them)."""
    if lead >= 0 or count <= 0 or nags_left(lead, policy.nag_days, count) > 0:
        return False
    return role == "sponsor" or all(r != "sponsor" for _, r in people)


def latest_nag(due: date, nag_days: int, today: date, *, count: int) -> tuple[int, datetime] | None:
    """The most recent nag due by ``today`` for an open decision: (lead, send time).

    Nags fall every ``nag_days`` after the due date, ``count`` of them (see
    :func:`nag_count`); only the latest is returned, so nags missed while the tracker
    was down collapse into one.
    """
    if nag_days <= 0 or today <= due:
        return None
    steps = min((today - due).days // nag_days, count)
    if steps < 1:
        return None
    overdue = steps * nag_days
    return -overdue, send_time(due + timedelta(days=overdue))


def nag_plannable_at(day: date) -> datetime:
    """When the sweep plans the nag that falls on ``day`` (aware UTC): at its send time,
    or, when that is on an earlier working day, once ``day`` has begun in London
    (``latest_nag`` offers a nag from its own day on)."""
    midnight = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    return max(midnight, send_time(day))


def next_nag_at(
    due: date, nag_days: int, snoozed_until: date | None, planned: Iterable[int], *, count: int
) -> datetime | None:
    """When the sweep next has to look at an open decision for a nag: the nag after the
    latest one ``planned`` (nag leads, e.g. -7, -14), or the first nag if none is, but
    not before the snooze ends (09:00 London on its last day, see ``released_through``).
    None: no nags (interval 0), or the ``count`` nags it gets are all planned.

    The sweep plans ``latest_nag`` at that time (several missed nags collapse into one)
    and moves this on to the nag after the one it planned.
    """
    if nag_days <= 0:
        return None
    done = max(
        (-lead // nag_days for lead in planned if lead < 0 and lead % nag_days == 0), default=0
    )
    if done >= count:
        return None
    at = nag_plannable_at(due + timedelta(days=(done + 1) * nag_days))
    if snoozed_until is not None:
        at = max(at, nine_am_london(snoozed_until))
    return at


def planned_nags(
    stored: Collection[tuple[int, str]],
    policy: ReminderPolicy,
    owner: str | None,
    sponsor: str | None,
) -> list[int]:
    """The nag leads of ``stored`` (lead, recipient) pairs that every recipient has: a
    nag only counts as planned once nobody it goes to is still missing it."""
    leads = {lead for lead, _ in stored if lead < 0}
    return [
        lead
        for lead in sorted(leads)
        if all((lead, who) in stored for who, _ in recipients_for(lead, policy, owner, sponsor))
    ]


@functools.lru_cache(maxsize=4096)
def _recipient_digest(recipient: str) -> str:
    """The recipient's part of a Message-ID (cached: an import plans hundreds of
    thousands of reminders for a few thousand people)."""
    return hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=8192)
def _day(due: date) -> str:
    """``20250604`` (cached: strftime was a sixth of an import's reminder planning)."""
    return f"{due:%Y%m%d}"


def message_id(milestone_id: int, due: date, lead: int, recipient: str, domain: str) -> str:
    """A stable Message-ID: the same reminder resent after a crash carries the same id,
    so a receiving server (or a person) can tell it is not a new message."""
    digest = _recipient_digest(recipient)
    tag = f"n{-lead}" if lead < 0 else f"l{lead}"
    return f"<r{milestone_id}.{_day(due)}.{tag}.{digest}@{domain}>"


class _Due(Protocol):
    @property
    def milestone_id(self) -> int: ...
    @property
    def recipient(self) -> str: ...
    @property
    def lead(self) -> int: ...


D = TypeVar("D", bound=_Due)


def collapse(due: Iterable[D]) -> tuple[list[D], list[tuple[D, D]]]:
    """One message per (milestone, recipient): the most urgent due reminder is sent;
    the others are recorded as collapsed into it. Returns (to send, (collapsed, into))."""
    groups: dict[tuple[int, str], list[D]] = {}
    for item in due:
        groups.setdefault((item.milestone_id, item.recipient), []).append(item)
    chosen: list[D] = []
    collapsed: list[tuple[D, D]] = []
    for items in groups.values():
        ordered = sorted(items, key=lambda r: r.lead)
        chosen.append(ordered[0])
        collapsed.extend((other, ordered[0]) for other in ordered[1:])
    return chosen, collapsed


def retry_delay(attempts: int, base_seconds: int = 300, cap_seconds: int = 6 * 3600) -> timedelta:
    """Exponential backoff after a temporary failure: 5 min, 10, 20, ... capped at 6 hours."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def mail_domain(mail_from: str) -> str:
    domain = mail_from.rpartition("@")[2].strip(" >")
    return domain or "contract-tracker.invalid"
