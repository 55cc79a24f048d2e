"""A realistic contract-tracker data set at any size, as real use would have left it.

    .venv/bin/python bench/generate.py --contracts 10000 --db sqlite+aiosqlite:///big.db

Each contract gets a term of one to five years, funding lines (some only expected or
pledged, with a confirm-by date), cost lines (some years left without: "cost
unknown"), extension options (some already activated), manual milestones, decision
records and now and then its own reminder policy; ``people`` distinct people (2,000
by default at full size) own, sponsor and watch them.

Milestones come from the tracker's own ``derive_milestones``; reminders from its own
``plan_leads`` / ``latest_nag`` / ``message_id`` and policy, each milestone's next nag
time from its ``nag_schedule``, so the rows are what the tracker itself would have planned. History is filled in as if the tracker had been
running all along until ``now``: every reminder whose time has passed was sent (a few
failed), decisions due in the past were mostly done (some are still open and nagged),
last week's and this week's digests went out. At ``now`` nothing is due: a sweep is idle.

Rows get explicit ids and go in with executemany (COPY on PostgreSQL), in big
transactions; sequences are moved past them afterwards. Importable: :func:`generate`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tracker.domain.calendar import LONDON, add_months
from tracker.domain.digest import current_period, digest_message_id
from tracker.domain.milestones import derive_milestones
from tracker.domain.reminders import (
    latest_nag,
    mail_domain,
    message_id,
    nag_count,
    plan_leads,
    recipients_for,
    send_time,
)
from tracker.domain.types import (
    FACT_KINDS,
    Contract,
    CostLine,
    Decision,
    ExtensionOption,
    ExtensionStatus,
    FinancialYear,
    FundingLine,
    FundingStatus,
    MilestoneKind,
)
from tracker.policy import Policy, load_policy
from tracker.service.reminders.nags import nag_schedule
from tracker.service.reminders.policy import contract_policy
from tracker.settings import Settings
from tracker.store.engine import create_engine
from tracker.store.models import (
    ContractPolicyRow,
    ContractRow,
    CostRow,
    DecisionRow,
    DeliveryAttemptRow,
    DigestRow,
    EventRow,
    ExtensionRow,
    FundingRow,
    MilestoneRow,
    ReminderRow,
    WatcherRow,
)
from tracker.store.schema import upgrade
from tracker.store.types import UTCDateTime

#: A Wednesday at noon London time: this week's digests went out on Monday, today's
#: reminders at 09:00. Benchmarks pass the same moment to the tracker with ``--now``.
DEFAULT_NOW = datetime(2025, 6, 4, 11, 0, tzinfo=UTC)
DEFAULT_SEED = 8
MAX_PEOPLE = 2_000

SOURCES = (
    "Home Office",
    "Ministry of Justice",
    "PCC core budget",
    "Council public health",
    "Police Transformation Fund",
    "NHS England",
    "Violence Reduction Unit",
)
CATEGORIES = ("Payroll", "Overheads", "Travel", "Training", "Premises", "Evaluation")
PROVIDERS = (
    "Victim Support",
    "Safer Futures",
    "Drive Partnership",
    "Community Links",
    "Restorative Solutions",
    "Change Grow Live",
)
SERVICES = (
    "Domestic abuse perpetrator programme",
    "Independent sexual violence advisers",
    "Restorative justice service",
    "Victims' hub",
    "Youth diversion scheme",
    "Substance misuse treatment",
)
COMMISSIONERS = ("OPCC West Mercia", "OPCC Lancashire", "County council", "Combined authority")

#: Reminders claimed by this "instance" in the generated history.
INSTANCE = "bench-generate:0:000000"

#: Rows per executemany call.
CHUNK = 20_000


Record = tuple[Any, ...]


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


#: Where a reminder tuple keeps its status.
STATUS = [c.name for c in _table(ReminderRow).columns].index("status")


@dataclass
class Rows:
    """Every table's rows with explicit ids, in insertion order: column dicts for the
    small tables, tuples in column order for reminders and delivery attempts."""

    contracts: list[dict[str, Any]] = field(default_factory=list)
    watchers: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    funding: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    digests: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[Record] = field(default_factory=list)
    attempts: list[Record] = field(default_factory=list)

    def tables(self) -> list[tuple[Table, list[Record]]]:
        """(table, rows as tuples in column order), parents before children."""
        by_dict = [
            (ContractRow, self.contracts),
            (WatcherRow, self.watchers),
            (ExtensionRow, self.extensions),
            (FundingRow, self.funding),
            (CostRow, self.costs),
            (ContractPolicyRow, self.policies),
            (DecisionRow, self.decisions),
            (MilestoneRow, self.milestones),
            (EventRow, self.events),
            (DigestRow, self.digests),
        ]
        result = []
        for model, dicts in by_dict:
            # A column the generator does not set takes its scalar default (a contract's
            # version 1), as an ORM flush would give it.
            columns = [
                (c.name, c.default.arg if c.default is not None and c.default.is_scalar else None)
                for c in _table(model).columns
            ]
            records = [tuple(d.get(name, default) for name, default in columns) for d in dicts]
            result.append((_table(model), records))
        result.append((_table(ReminderRow), self.reminders))
        result.append((_table(DeliveryAttemptRow), self.attempts))
        return result

    def count(self) -> int:
        return sum(len(v) for v in vars(self).values())


@dataclass(frozen=True)
class Stats:
    """What was generated and how long it took (seconds)."""

    contracts: int
    people: int
    milestones: int
    reminders: int
    planned: int
    rows: int
    build_seconds: float
    insert_seconds: float

    @property
    def seconds(self) -> float:
        return self.build_seconds + self.insert_seconds

    def line(self) -> str:
        return (
            f"{self.contracts:,} contracts, {self.people:,} people, {self.milestones:,} "
            f"milestones, {self.reminders:,} reminders ({self.planned:,} planned), "
            f"{self.rows:,} rows in {self.seconds:.1f} s "
            f"(build {self.build_seconds:.1f} s, insert {self.insert_seconds:.1f} s)"
        )


def default_people(contracts: int) -> int:
    """One person per five contracts, at most 2,000 (the issue's full size), at least 3."""
    return max(3, min(MAX_PEOPLE, contracts // 5))


def person(n: int) -> str:
    return f"person{n:04d}@example.org"


@dataclass(frozen=True)
class _Milestone:
    """What ``nag_schedule`` reads of a milestone row."""

    kind: str
    status: str
    due: date
    snoozed_until: date | None


def _london_9am(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON).replace(hour=9)


class _Builder:
    """Builds all rows in memory; ids are assigned here, in order."""

    def __init__(self, people: int, now: datetime, seed: int, policy: Policy) -> None:
        self.rng = random.Random(seed)
        self.people = [person(n) for n in range(people)]
        self.now = now
        self.today = now.astimezone(LONDON).date()
        self.policy = policy
        self.domain = mail_domain(Settings().mail_from)
        self.rows = Rows()
        self.next_id: dict[str, int] = {}

    def _id(self, table: str) -> int:
        value = self.next_id.get(table, 0) + 1
        self.next_id[table] = value
        return value

    # -- one contract -------------------------------------------------------------------

    def contract(self, index: int) -> None:
        rng, now, today = self.rng, self.now, self.today
        cid = self._id("contracts")
        start = today + timedelta(days=rng.randint(-4 * 365, 200))
        start = start.replace(day=1)
        months = rng.choice((12, 18, 21, 24, 24, 36, 36, 48, 60))
        original_end = add_months(start, months) - timedelta(days=1)
        owner = self.people[index % len(self.people)]
        sponsor = self.people[
            (index * 7 + 1 + rng.randrange(len(self.people) - 1)) % len(self.people)
        ]
        if sponsor == owner:
            sponsor = self.people[(self.people.index(owner) + 1) % len(self.people)]
        watchers = sorted(
            set(rng.sample(self.people, k=min(len(self.people), rng.choice((0, 1, 1, 2, 2, 3)))))
            - {owner, sponsor}
        )
        options = self._options(original_end)
        funding, costs = self._money(start, original_end, options)
        decisions = self._decisions(start, today)
        base = Contract(
            ref=f"GEN/{start.year}/{cid:05d}",
            title=f"{rng.choice(SERVICES)} {cid}",
            provider=rng.choice(PROVIDERS),
            start=start,
            end=original_end,
            original_end=original_end,
            value=sum((c.amount for c in costs if c.year.start < original_end), Decimal(0))
            + (Decimal(1) if rng.random() < 0.05 else Decimal(0)),  # a stated/line mismatch
            intervention_months=rng.choice((None, None, 6, 9, 12, 12)),
            extensions=tuple(options),
            funding=tuple(funding),
            costs=tuple(costs),
            decisions=tuple(decisions),
        )
        contract, superseded = self._as_of_now(base)
        overrides = self._policy(cid)
        created = datetime.combine(start - timedelta(days=240), datetime.min.time(), tzinfo=UTC)
        created = min(created, now - timedelta(days=30)).replace(hour=10)
        self.rows.contracts.append(
            {
                "id": cid,
                "ref": contract.ref,
                "title": contract.title,
                "provider": contract.provider,
                "commissioner": rng.choice(COMMISSIONERS),
                "start_date": contract.start,
                "end_date": contract.end,
                "original_end": contract.original_end,
                "value": contract.value,
                "owner": owner,
                "sponsor": sponsor,
                "intervention_months": contract.intervention_months,
                "notes": None,
                "created_at": created,
                "updated_at": created,
            }
        )
        self.rows.watchers.extend({"contract_id": cid, "email": w} for w in watchers)
        for option in contract.extensions:
            decided = option.status != ExtensionStatus.AVAILABLE
            self.rows.extensions.append(
                {
                    "id": self._id("extension_options"),
                    "contract_id": cid,
                    "seq": option.seq,
                    "until": option.until,
                    "notice_days": option.notice_days,
                    "notice_by": option.notice_by,
                    "status": option.status.value,
                    "decided_at": _london_9am(original_end - timedelta(days=150))
                    if decided
                    else None,
                }
            )
        for line in contract.funding:
            self.rows.funding.append(
                {
                    "id": self._id("funding_lines"),
                    "contract_id": cid,
                    "key": line.key,
                    "source": line.source,
                    "year": line.year.start_year,
                    "amount": line.amount,
                    "status": line.status.value,
                    "confirm_by": line.confirm_by,
                }
            )
        for cost in contract.costs:
            self.rows.costs.append(
                {
                    "id": self._id("cost_lines"),
                    "contract_id": cid,
                    "year": cost.year.start_year,
                    "category": cost.category,
                    "amount": cost.amount,
                }
            )
        for d in contract.decisions:
            self.rows.decisions.append(
                {
                    "id": self._id("decisions"),
                    "contract_id": cid,
                    "ref": d.ref,
                    "decided_on": d.decided_on,
                    "publish_within_working_days": d.publish_within_working_days,
                    "url": d.url,
                    "title": d.title,
                    "created_at": _london_9am(d.decided_on),
                }
            )
        self._event(cid, created, "contract_added", f"{contract.ref} added: {contract.title}")
        self._milestones(cid, contract, superseded, owner, sponsor, overrides, created)

    def _options(self, end: date) -> list[ExtensionOption]:
        rng = self.rng
        count = rng.choice((0, 1, 1, 1, 2))
        options = []
        until = end
        for seq in range(1, count + 1):
            until = add_months(until + timedelta(days=1), 12) - timedelta(days=1)
            if rng.random() < 0.5:
                options.append(ExtensionOption(seq, until, notice_days=rng.choice((90, 120, 180))))
            else:
                notice_by = end - timedelta(days=rng.randint(100, 200))
                options.append(ExtensionOption(seq, until, notice_by=notice_by))
        return options

    def _money(
        self, start: date, end: date, options: Sequence[ExtensionOption]
    ) -> tuple[list[FundingLine], list[CostLine]]:
        rng = self.rng
        last = options[-1].until if options else end
        years = []
        year = FinancialYear.of(start)
        while year.start <= last:
            years.append(year)
            year = year.next()
        funding: list[FundingLine] = []
        costs: list[CostLine] = []
        for fy in years:
            budget = Decimal(rng.randrange(80_000, 400_000)) + Decimal(rng.randrange(100)) / 100
            if rng.random() < 0.85:  # else: "cost unknown" for that year
                parts = rng.randint(1, 3)
                for n in range(parts):
                    share = (budget / parts).quantize(Decimal("0.01"))
                    costs.append(CostLine(fy, share, CATEGORIES[n % len(CATEGORIES)]))
            covered = Decimal(0)
            for _ in range(rng.randint(1, 2)):
                amount = (budget * Decimal(rng.choice((30, 50, 60, 100))) / 100).quantize(
                    Decimal("0.01")
                )
                status = rng.choice(
                    (
                        FundingStatus.CONFIRMED,
                        FundingStatus.CONFIRMED,
                        FundingStatus.RECEIVED,
                        FundingStatus.EXPECTED,
                        FundingStatus.PLEDGED,
                    )
                )
                confirm_by = None
                if status in (FundingStatus.EXPECTED, FundingStatus.PLEDGED) and rng.random() < 0.6:
                    confirm_by = fy.start - timedelta(days=rng.randint(30, 120))
                key = str(len(funding) + 1)
                funding.append(
                    FundingLine(key, rng.choice(SOURCES), fy, amount, status, confirm_by)
                )
                covered += amount
                if covered >= budget:
                    break
        return funding, costs

    def _decisions(self, start: date, today: date) -> list[Decision]:
        rng = self.rng
        if rng.random() >= 0.2:
            return []
        decided = min(start - timedelta(days=rng.randint(30, 200)), today - timedelta(days=1))
        number = rng.randint(1, 99)
        return [
            Decision(
                ref=f"{number}/{decided.year}",
                decided_on=decided,
                url=f"https://example.org/decisions/{decided.year}-{number}",
                title="Award of contract",
            )
        ]

    def _as_of_now(self, contract: Contract) -> tuple[Contract, list[Any]]:
        """Activate (or decline) options whose notice date is well past, as people did.

        Returns the contract as it stands and the milestones of the options decided.
        """
        rules = self.policy.derivation
        superseded = []
        while True:
            derived = derive_milestones(contract, rules)
            notice = next((m for m in derived if m.kind == MilestoneKind.EXTENSION_NOTICE), None)
            if notice is None or notice.due >= self.today - timedelta(days=30):
                return contract, superseded
            seq = int(notice.key.split(":")[1])
            activate = self.rng.random() < 0.8
            options = []
            end = contract.end
            for option in contract.extensions:
                if option.seq == seq:
                    status = ExtensionStatus.ACTIVATED if activate else ExtensionStatus.DECLINED
                    option = ExtensionOption(
                        option.seq, option.until, option.notice_days, option.notice_by, status
                    )
                    end = option.until if activate else end
                options.append(option)
            superseded.append(notice)
            contract = Contract(
                ref=contract.ref,
                title=contract.title,
                provider=contract.provider,
                start=contract.start,
                end=end,
                original_end=contract.original_end,
                value=contract.value,
                intervention_months=contract.intervention_months,
                extensions=tuple(options),
                funding=contract.funding,
                costs=contract.costs,
                decisions=contract.decisions,
            )

    def _policy(self, cid: int) -> list[ContractPolicyRow]:
        if self.rng.random() >= 0.05:
            return []
        kind = self.rng.choice((MilestoneKind.EXTENSION_NOTICE, MilestoneKind.FUNDING_CONFIRMATION))
        row = {
            "id": self._id("contract_policies"),
            "contract_id": cid,
            "kind": kind.value,
            "leads": "120,60,30,14",
            "escalate_from": 30,
            "nag_days": 14,
        }
        self.rows.policies.append(row)
        return [ContractPolicyRow(**{k: v for k, v in row.items() if k != "id"})]

    def _event(self, cid: int, at: datetime, kind: str, detail: str) -> None:
        self.rows.events.append(
            {
                "id": self._id("contract_events"),
                "contract_id": cid,
                "at": at,
                "kind": kind,
                "detail": detail,
            }
        )

    def _milestones(
        self,
        cid: int,
        contract: Contract,
        superseded: list[Any],
        owner: str,
        sponsor: str,
        overrides: list[ContractPolicyRow],
        created: datetime,
    ) -> None:
        rng, today = self.rng, self.today
        derived = derive_milestones(contract, self.policy.derivation)
        entries: list[tuple[MilestoneKind, str, date, str, str, str]] = [
            (m.kind, m.key, m.due, m.title, m.note, "derived") for m in derived
        ]
        entries += [(m.kind, m.key, m.due, m.title, m.note, "decided") for m in superseded]
        entries += self._manual(cid, contract)
        for kind, key, due, title, note, how in entries:
            mid = self._id("milestones")
            status, closed_at, closed_note = "open", None, None
            is_fact = kind in FACT_KINDS
            if how == "decided":
                status, closed_note = "done", "extension activated"
                closed_at = _london_9am(due) - timedelta(days=rng.randint(1, 20))
            elif (
                not is_fact
                and due < today
                # Old decisions were taken; a few recent ones are still open (overdue).
                and (due < today - timedelta(days=120) or rng.random() < 0.85)
            ):
                status, closed_note = "done", "done"
                closed_at = _london_9am(due) - timedelta(days=rng.randint(0, 14))
            snoozed = None
            if status == "open" and not is_fact and due > today and rng.random() < 0.02:
                snoozed = today + timedelta(days=rng.randint(1, 20))
            self.rows.milestones.append(
                {
                    "id": mid,
                    "contract_id": cid,
                    "kind": kind.value,
                    "key": key,
                    "due": due,
                    "title": title,
                    "status": status,
                    "origin": "manual" if how == "manual" else "derived",
                    "note": note or None,
                    "closed_at": closed_at,
                    "closed_note": closed_note,
                    "snoozed_until": snoozed,
                    "snooze_note": "waiting for the funder's letter" if snoozed else None,
                    "created_at": created,
                    "updated_at": closed_at or created,
                }
            )
            if closed_at is not None:
                self._event(
                    cid, closed_at, "milestone_done",
                    f"{contract.ref}: {kind.value} due {due.isoformat()} done ({closed_note})",
                )  # fmt: skip
            rule = contract_policy(self.policy, overrides, kind)
            count = nag_count(kind, due, rule, contract.end)
            nags = self._reminders(
                cid, mid, due, rule, owner, sponsor, status, closed_at, is_fact, count=count
            )
            row = self.rows.milestones[-1]
            milestone = _Milestone(kind.value, status, due, snoozed)
            row["next_nag_at"], row["nag_default_days"] = nag_schedule(
                milestone, self.policy, overrides, owner, sponsor, nags, contract_end=contract.end
            )

    def _manual(
        self, cid: int, contract: Contract
    ) -> list[tuple[MilestoneKind, str, date, str, str, str]]:
        """An annual review (mostly), sometimes a grant agreement and a re-procurement."""
        rng = self.rng
        entries = []
        year_start, n = contract.start, 0
        while year_start < contract.end and n < 4:
            if rng.random() < 0.8:
                due = add_months(year_start, 11)
                entries.append(
                    (
                        MilestoneKind.REVIEW,
                        f"manual:{cid:06d}r{n}",
                        due,
                        "Annual review",
                        "",
                        "manual",
                    )
                )
            year_start, n = add_months(year_start, 12), n + 1
        if rng.random() < 0.3:
            due = contract.start + timedelta(days=rng.randint(-60, 30))
            entries.append(
                (
                    MilestoneKind.GRANT_AGREEMENT,
                    f"manual:{cid:06d}g",
                    due,
                    "Grant agreement signed",
                    "",
                    "manual",
                )
            )
        if rng.random() < 0.3:
            due = contract.end - timedelta(days=rng.randint(60, 200))
            entries.append(
                (
                    MilestoneKind.PROCUREMENT,
                    f"manual:{cid:06d}p",
                    due,
                    "Re-procurement: new service in place",
                    "",
                    "manual",
                )
            )
        return entries

    def _reminders(
        self,
        cid: int,
        mid: int,
        due: date,
        rule: Any,
        owner: str,
        sponsor: str,
        status: str,
        closed_at: datetime | None,
        is_fact: bool,
        *,
        count: int,
    ) -> set[tuple[int, str]]:
        """Writes the milestone's reminders; returns the (lead, recipient) of its nags."""
        now = self.now
        nags: set[tuple[int, str]] = set()
        remindable = status == "open" and not (is_fact and due < self.today)
        for planned in plan_leads(due, rule, owner, sponsor):
            past = planned.send_at <= now and (closed_at is None or planned.send_at < closed_at)
            if past:
                self._sent(
                    cid, mid, due, planned.lead, planned.recipient, planned.role, planned.send_at
                )
            elif remindable:
                self._planned(
                    cid, mid, due, planned.lead, planned.recipient, planned.role, planned.send_at
                )
        if status == "open" and count > 0:
            # The nags a running tracker planned and sent, one per interval, up to now.
            nag = latest_nag(due, rule.nag_days, self.today, count=count)
            if nag is not None and nag[1] > now:
                yesterday = self.today - timedelta(days=1)
                nag = latest_nag(due, rule.nag_days, yesterday, count=count)
            last = -nag[0] if nag is not None else 0
            for overdue in range(rule.nag_days, last + 1, rule.nag_days):
                when = send_time(due + timedelta(days=overdue))
                for recipient, role in recipients_for(-overdue, rule, owner, sponsor):
                    self._sent(cid, mid, due, -overdue, recipient, role, when)
                    nags.add((-overdue, recipient))
        return nags

    def _reminder(
        self,
        cid: int,
        mid: int,
        due: date,
        lead: int,
        recipient: str,
        role: str,
        when: datetime,
        *,
        sent: bool,
    ) -> None:
        """One reminder row, in the table's column order (tuples keep a million rows small)."""
        rid = self._id("reminders")
        mid_ = message_id(mid, due, lead, recipient, self.domain)
        planned_at = when - timedelta(days=1)
        row = (rid, mid, cid, due, lead, recipient, role, when, when)
        if not sent:
            untried = ("planned", 0, mid_, None, None, None, None, None)
            # ... created_at, updated_at, first_attempt_at
            self.rows.reminders.append((*row, *untried, planned_at, planned_at, None))
            return
        at = when + timedelta(seconds=self.rng.randint(1, 300))
        failed = self.rng.random() < 0.003
        reply = "550 5.1.1 mailbox unavailable" if failed else "250 2.0.0 OK"
        status = "failed" if failed else "sent"
        claim = (INSTANCE, at + timedelta(minutes=5), None if failed else at, reply, None)
        self.rows.reminders.append((*row, status, 1, mid_, *claim, planned_at, at, at))
        self.rows.attempts.append(
            (self._id("delivery_attempts"), rid, None, at,
             "permanent" if failed else "sent", reply, INSTANCE)
        )  # fmt: skip

    def _planned(self, *args: Any) -> None:
        self._reminder(*args, sent=False)

    def _sent(self, *args: Any) -> None:
        self._reminder(*args, sent=True)

    # -- digests ------------------------------------------------------------------------

    def digests(self) -> None:
        """Last week's and this week's digest went to everyone (Monday 08:00 London)."""
        for moment in (self.now - timedelta(days=7), self.now):
            period = current_period(moment, "weekly", "monday", datetime(2000, 1, 1, 8).time())
            for who in self.people:
                sent = period.scheduled_at + timedelta(seconds=30)
                did = self._id("digests")
                self.rows.digests.append(
                    {
                        "id": did,
                        "recipient": who,
                        "period": period.key,
                        "scheduled_at": period.scheduled_at,
                        "status": "sent",
                        "attempts": 1,
                        "message_id": digest_message_id(who, period.key, self.domain),
                        "claimed_by": INSTANCE,
                        "lease_until": sent + timedelta(minutes=5),
                        "due_at": period.scheduled_at,
                        "sent_at": sent,
                        "last_reply": "250 2.0.0 OK",
                        "created_at": period.scheduled_at,
                        "updated_at": sent,
                    }
                )
                self.rows.attempts.append(
                    (
                        self._id("delivery_attempts"),
                        None,
                        did,
                        sent,
                        "sent",
                        "250 2.0.0 OK",
                        INSTANCE,
                    )
                )

    def recent_changes(self) -> None:
        """A few changes in the last week, for the digests' "what changed"."""
        for row in self.rows.contracts:
            if self.rng.random() < 0.05:
                at = self.now - timedelta(hours=self.rng.randint(1, 24 * 6))
                self._event(row["id"], at, "cost_added", f"{row['ref']}: cost added")


def build_rows(contracts: int, people: int, now: datetime, seed: int, policy: Policy) -> Rows:
    builder = _Builder(people, now, seed, policy)
    for index in range(contracts):
        builder.contract(index)
    builder.recent_changes()
    builder.digests()
    builder.rows.events.sort(key=lambda e: e["id"])
    return builder.rows


# -- the same contracts as an import file -------------------------------------------------


def _by_contract(records: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["contract_id"], []).append(record)
    return grouped


def _extension_record(e: dict[str, Any]) -> dict[str, Any]:
    notice = {"notice_by": e["notice_by"]} if e["notice_by"] else {"notice_days": e["notice_days"]}
    return {"until": e["until"], **notice}


def _funding_record(f: dict[str, Any]) -> dict[str, Any]:
    record = {
        "source": f["source"],
        "year": str(FinancialYear(f["year"])),
        "amount": str(f["amount"]),
    }
    record["status"] = f["status"]
    if f["confirm_by"]:
        record["confirm_by"] = f["confirm_by"]
    return record


def _cost_record(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "year": str(FinancialYear(c["year"])),
        "category": c["category"],
        "amount": str(c["amount"]),
    }


def _decision_record(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["ref"], "date": d["decided_on"], "title": d["title"]}


def import_records(rows: Rows) -> list[dict[str, Any]]:
    """The generated contracts as ``tracker import`` records: what a council moving its
    register into the tracker would load (options still open; no history)."""
    groups = {
        "watchers": _by_contract(rows.watchers),
        "extensions": _by_contract(rows.extensions),
        "funding": _by_contract(rows.funding),
        "costs": _by_contract(rows.costs),
        "decisions": _by_contract(rows.decisions),
    }
    records = []
    for c in rows.contracts:
        cid = c["id"]
        record: dict[str, Any] = {
            key: c[key] for key in ("ref", "title", "provider", "commissioner")
        }
        record |= {"start": c["start_date"], "end": c["end_date"], "value": str(c["value"])}
        record |= {"owner": c["owner"], "sponsor": c["sponsor"]}
        record["watchers"] = [w["email"] for w in groups["watchers"].get(cid, [])]
        if c["intervention_months"]:
            record["intervention_months"] = c["intervention_months"]
        options = groups["extensions"].get(cid, [])
        pending = [e for e in options if e["status"] == "available" and e["until"] > c["end_date"]]
        record["extensions"] = [_extension_record(e) for e in pending]
        record["funding"] = [_funding_record(f) for f in groups["funding"].get(cid, [])]
        record["costs"] = [_cost_record(x) for x in groups["costs"].get(cid, [])]
        record["decisions"] = [_decision_record(d) for d in groups["decisions"].get(cid, [])]
        records.append(record)
    return records


def write_import_yaml(path: Path, rows: Rows) -> Path:
    """Built rows as a YAML file for ``tracker import`` (libyaml's dumper when there)."""
    import yaml

    document = {"contracts": import_records(rows)}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out, Dumper=dumper, sort_keys=False, allow_unicode=True)
    return path


def write_import_file(
    path: Path, contracts: int, *, people: int | None = None, seed: int = DEFAULT_SEED
) -> Path:
    """``contracts`` generated contracts as a YAML file for ``tracker import``."""
    people = people or default_people(contracts)
    return write_import_yaml(path, build_rows(contracts, people, DEFAULT_NOW, seed, load_policy()))


# -- inserting --------------------------------------------------------------------------


def _sqlite_converter(column: Any) -> Any:
    """How SQLAlchemy would store a value of ``column`` on SQLite, without its per-row
    overhead: UTC times as ``YYYY-MM-DD HH:MM:SS.ffffff``, dates ISO, the rest through
    the column type's own bind processor. tests/perf checks these agree with SQLAlchemy."""
    if isinstance(column.type, UTCDateTime):
        return lambda v: (
            None
            if v is None
            else v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        )
    if isinstance(column.type, Date):
        return lambda v: None if v is None else v.isoformat()
    return None


def sqlite_records(table: Table, records: Sequence[Record], dialect: Any) -> list[Record]:
    """``records`` (Python values in column order) as the SQLite driver is given them."""
    converters = []
    for column in table.columns:
        fast = _sqlite_converter(column)
        converters.append(fast or column.type._cached_bind_processor(dialect))
    if all(c is None for c in converters):
        return list(records)
    pairs = [(i, c) for i, c in enumerate(converters) if c is not None]
    out = []
    for record in records:
        values = list(record)
        for i, convert in pairs:
            values[i] = convert(values[i])
        out.append(tuple(values))
    return out


async def _insert_sqlite(conn: AsyncConnection, table: Table, records: Sequence[Record]) -> None:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    columns = ", ".join(c.name for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    await driver.executemany(
        f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",
        sqlite_records(table, records, conn.dialect),
    )


async def _copy(conn: AsyncConnection, table: Table, records: Sequence[Record]) -> None:
    """PostgreSQL: COPY through asyncpg (aware datetimes, dates and Decimals as they are)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    columns = [c.name for c in table.columns]
    await driver.copy_records_to_table(table.name, records=list(records), columns=columns)


async def insert_rows(engine: AsyncEngine, rows: Rows) -> None:
    """Insert everything in one transaction; move PostgreSQL's sequences past the ids."""
    postgres = engine.dialect.name == "postgresql"
    tables = rows.tables()
    async with engine.connect() as conn:
        if not postgres:
            # A bulk load into a fresh file: a big page cache keeps the indexes' random
            # inserts in memory; the data is worthless until the commit anyway.
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute("PRAGMA cache_size = -1000000")
            await driver.execute("PRAGMA synchronous = OFF")
        await conn.begin()
        for table, records in tables:
            for start in range(0, len(records), CHUNK):
                chunk = records[start : start + CHUNK]
                if postgres:
                    await _copy(conn, table, chunk)
                else:
                    await _insert_sqlite(conn, table, chunk)
        if postgres:
            for table, _ in tables:
                if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                        )
                    )
        await conn.commit()
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def generate(
    url: str,
    contracts: int,
    *,
    people: int | None = None,
    now: datetime = DEFAULT_NOW,
    seed: int = DEFAULT_SEED,
    rows: Rows | None = None,
) -> Stats:
    """Create the schema in the (empty) database at ``url`` and fill it; returns what was made.

    ``rows`` from an earlier :func:`build_rows` (same arguments) skips building them again,
    e.g. to fill a SQLite and a PostgreSQL database with the same data.
    """
    people = people or default_people(contracts)
    began = time.perf_counter()
    if rows is None:
        rows = build_rows(contracts, people, now, seed, load_policy())
    built = time.perf_counter()
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            existing = (await conn.execute(select(func.count()).select_from(ContractRow))).scalar()
        if existing:
            raise SystemExit(f"{url}: the database already holds {existing} contracts")
        await insert_rows(engine, rows)
    finally:
        await engine.dispose()
    done = time.perf_counter()
    return Stats(
        contracts=contracts,
        people=len({r["owner"] for r in rows.contracts} | {r["sponsor"] for r in rows.contracts}
                   | {w["email"] for w in rows.watchers}),
        milestones=len(rows.milestones),
        reminders=len(rows.reminders),
        planned=sum(1 for r in rows.reminders if r[STATUS] == "planned"),
        rows=rows.count(),
        build_seconds=built - began,
        insert_seconds=done - built,
    )  # fmt: skip


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, required=True, help="how many contracts")
    parser.add_argument("--people", type=int, help="distinct people (default contracts/5, <= 2000)")
    parser.add_argument(
        "--db",
        help="database URL (an empty database), or a SQLite file path; default bench-N.db",
    )
    parser.add_argument("--now", help="ISO moment the history runs up to (UTC)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--yaml", help="write an import file (YAML) here instead of a database")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.yaml:
        write_import_file(Path(args.yaml), args.contracts, people=args.people, seed=args.seed)
        print(f"{args.contracts:,} contracts written to {args.yaml} for tracker import")
        return 0
    url = args.db or f"bench-{args.contracts}.db"
    if "://" not in url:
        path = Path(url)
        if path.exists():
            path.unlink()
        url = sqlite_url(path.resolve())
    now = datetime.fromisoformat(args.now).astimezone(UTC) if args.now else DEFAULT_NOW
    stats = asyncio.run(generate(url, args.contracts, people=args.people, now=now, seed=args.seed))
    print(stats.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
