"""The digest's content: one person's contracts, gathered for a batch of people at once.

A batch is read in a fixed number of SQL statements (see :func:`load_batch`), whatever
the number of people in it or of contracts they touch: lists of addresses and contract
ids go in as one parameter each (a PostgreSQL array, a JSON array read with SQLite's
``json_each``), never as a parameter per item or a query per 500 rows. Only the columns
and rows the digest shows are read: no ORM objects, no milestones that cannot appear.

Each contract is then worked out once per digest run (a :class:`FactsCache` passed
along the batches) into :class:`ContractFacts`: the parts of a digest that are the same
for every recipient (its decision items, its entry in the funding, staffing and ending
sections, its changes), with the rules :func:`tracker.service.views.contracts.summarise` applies
(funding gaps, totals warnings, staffing risk, close commands; a test compares the two),
so composing one person's digest only picks and sorts. So the work per recipient does
not grow with the data: a batch of 200 of 2,000 people touches some 3,500 of 10,000
contracts, 17 per person, where 200 people sharing 1,000 contracts touch 5 per person.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from tracker.domain.digest import Schedule, parse_time
from tracker.domain.funding import totals_warnings, year_gaps
from tracker.domain.milestones import DECISION_TEXT, effective_status, snooze_holds
from tracker.domain.staffing import staffing_risk
from tracker.domain.types import (
    FACT_KINDS,
    Contract,
    CostLine,
    DerivationRules,
    ExtensionOption,
    FundingLine,
    MilestoneKind,
    MilestoneState,
    MilestoneStatus,
)
from tracker.domain.wording import close_command, decision_label, snooze_command
from tracker.mail.model import (
    DecisionLink,
    DigestChange,
    DigestContract,
    DigestEmail,
    DigestFailure,
    DigestItem,
    GapRow,
)
from tracker.service.app import App
from tracker.service.links import Links, email_links
from tracker.store.domain_rows import (
    contract_of,
    cost_line,
    extension_option,
    funding_line,
    milestone_state,
)
from tracker.store.filters import one_of
from tracker.store.involvement import involving
from tracker.store.models import (
    ContractRow,
    CostRow,
    DecisionRow,
    DigestRow,
    EventRow,
    ExtensionRow,
    FundingRow,
    MilestoneRow,
    RecipientRow,
    ReminderRow,
    WatcherRow,
)
from tracker.store.outbox import OutboxStatus
from tracker.store.rows import copy_row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

UPCOMING_DAYS = 56  # "decisions due in the next 8 weeks"
ENDING_DAYS = 365  # "contracts ending within 12 months"
CHANGES_DAYS = 7

#: Dated facts are never digest items; of the decisions, the digest lists the open ones.
_FACTS = sorted(kind.value for kind in FACT_KINDS)
#: The milestones whose completion removes a staffing risk (see ``deciding_milestone``).
_DECIDING = sorted(
    kind.value for kind in (MilestoneKind.EXTENSION_NOTICE, MilestoneKind.CONTINUATION_DECISION)
)


def default_schedule(app: App) -> Schedule:
    """Everyone's schedule unless they set their own (the policy's ``[digest]``)."""
    return app.policy.digest.schedule


async def all_recipients(session: AsyncSession) -> list[str]:
    """Everyone who owns, sponsors or watches at least one contract."""
    people = union(
        select(ContractRow.owner.label("email")).where(ContractRow.owner.is_not(None)),
        select(ContractRow.sponsor.label("email")).where(ContractRow.sponsor.is_not(None)),
        select(WatcherRow.email.label("email")),
    ).subquery()
    rows = await session.execute(select(people.c.email).order_by(people.c.email))
    return [str(email) for email in rows.scalars()]


async def schedules(session: AsyncSession, app: App, people: Sequence[str]) -> dict[str, Schedule]:
    """Each person's schedule: their own settings where set, else the configured default."""
    default = default_schedule(app)
    own = {
        r.email: r
        for r in (
            await session.execute(select(RecipientRow).where(RecipientRow.email.in_(list(people))))
        ).scalars()
    }
    result = {}
    for person in people:
        row = own.get(person)
        if row is None:
            result[person] = default
        else:
            at = parse_time(row.digest_time) if row.digest_time else default.at
            weekday = row.digest_day or default.weekday
            result[person] = Schedule(frequency=row.digest, weekday=weekday, at=at)
    return result


# -- one contract, the same for every recipient ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContractFacts:
    """What the digest shows of one contract, worked out once per batch.

    ``listed`` is its entry in the funding, staffing and ending sections (with the role
    ``owner``; :meth:`listed_as` gives it for another role), None once the contract has
    ended, when it can be in none of them. Failed deliveries are not here: which ones a
    batch reads depends on its people's last digests (:attr:`Batch.failures`).
    """

    id: int
    ref: str
    end: date
    owner: str | None
    sponsor: str | None
    overdue: tuple[DigestItem, ...]
    upcoming: tuple[DigestItem, ...]
    listed: DigestContract | None
    needs_funding: bool
    staffing_at_risk: bool
    ending: bool
    changes: tuple[DigestChange, ...]

    def role(self, person: str) -> str:
        if self.owner == person:
            return "owner"
        if self.sponsor == person:
            return "sponsor"
        return "watcher"

    def listed_as(self, person: str) -> DigestContract:
        assert self.listed is not None
        role = self.role(person)
        return self.listed if role == self.listed.role else replace(self.listed, role=role)


@dataclass(frozen=True, kw_only=True)
class _Milestone:
    """The columns of a milestone the digest reads."""

    id: int
    kind: str
    key: str
    due: date
    title: str
    status: str
    origin: str
    snoozed_until: date | None
    snooze_note: str | None


@dataclass
class _Parts:
    """One contract's rows as read for the batch, before they are worked out."""

    row: Any  # the contract's columns (a Row)
    extensions: list[ExtensionOption] = field(default_factory=list)
    funding: list[FundingLine] = field(default_factory=list)
    costs: list[CostLine] = field(default_factory=list)
    links: list[DecisionLink] = field(default_factory=list)
    milestones: list[_Milestone] = field(default_factory=list)
    changes: list[DigestChange] = field(default_factory=list)


def _item(
    parts: _Parts, m: _Milestone, *, today: date, ambiguous: bool, at_risk: bool
) -> DigestItem:
    """One open decision as the digest lists it, worded as the reminder words it."""
    row = parts.row
    kind = MilestoneKind(m.kind)
    snoozed = snooze_holds(m.snoozed_until, today)
    return DigestItem(
        ref=row.ref,
        contract_title=row.title,
        kind=kind.value,
        kind_label=decision_label(kind),
        title=m.title,
        due=m.due,
        days_left=(m.due - today).days,
        if_missed=DECISION_TEXT.get(kind, ""),
        close_command=close_command(row.ref, kind, m.id, ambiguous=ambiguous),
        snooze_command=snooze_command(row.ref, kind, today=today),
        snoozed_until=m.snoozed_until if snoozed else None,
        snooze_note=m.snooze_note if snoozed else None,
        staffing_at_risk=at_risk,
        decision_links=tuple(parts.links),
        milestone_id=m.id,
    )


def _items(
    parts: _Parts, today: date, at_risk: bool
) -> tuple[tuple[DigestItem, ...], tuple[DigestItem, ...]]:
    """The contract's open decisions that are overdue, and those due within 8 weeks,
    each in the order :func:`tracker.service.views.contracts.milestone_views` gives them.
    Open as ``effective_status`` sees it: a milestone time has closed is not listed."""
    end = parts.row.end_date
    open_ones = [
        m
        for m in parts.milestones
        if effective_status(
            MilestoneKind(m.kind), MilestoneStatus(m.status), m.due, today, contract_end=end
        )
        == MilestoneStatus.OPEN
    ]
    open_kinds = Counter(m.kind for m in open_ones)
    overdue: list[DigestItem] = []
    upcoming: list[DigestItem] = []
    for m in sorted(open_ones, key=lambda m: (m.due, m.kind, m.id)):
        days_left = (m.due - today).days
        if days_left > UPCOMING_DAYS:
            continue
        ambiguous = open_kinds[m.kind] > 1
        item = _item(parts, m, today=today, ambiguous=ambiguous, at_risk=at_risk)
        (overdue if days_left < 0 else upcoming).append(item)
    return tuple(overdue), tuple(upcoming)


def _contract(parts: _Parts) -> Contract:
    """The contract as the pure rules see it, from the columns the digest read."""
    return contract_of(
        parts.row, extensions=parts.extensions, funding=parts.funding, costs=parts.costs
    )


def _done_states(parts: _Parts) -> list[MilestoneState]:
    """The done deciding milestones: the ones that can lift a staffing risk."""
    return [milestone_state(m) for m in parts.milestones if m.status == MilestoneStatus.DONE.value]


@dataclass(frozen=True, kw_only=True)
class _Listing:
    """A live contract's entry in the funding, staffing and ending sections."""

    listed: DigestContract
    needs_funding: bool
    staffing_at_risk: bool


def _listing(parts: _Parts, today: date, rules: DerivationRules) -> _Listing:
    """What the funding, staffing and ending sections show of a contract not yet ended,
    with the rules :func:`tracker.service.views.contracts.summarise` applies."""
    row = parts.row
    contract = _contract(parts)
    staffing = staffing_risk(contract, _done_states(parts), rules, today)
    gaps = [g for g in year_gaps(contract) if g.in_term]
    listed = copy_row(
        DigestContract,
        row,
        end=row.end_date,
        days_to_end=(row.end_date - today).days,
        role="owner",
        staffing_at_risk=staffing.at_risk,
        staffing_summary=staffing.summary,
        gaps=tuple(GapRow.of(g) for g in gaps),
        warnings=tuple(totals_warnings(contract)),
    )
    return _Listing(
        listed=listed,
        needs_funding=any(g.needs_decision for g in gaps),
        staffing_at_risk=staffing.at_risk,
    )


def _facts(parts: _Parts, today: date, rules: DerivationRules) -> ContractFacts:
    row = parts.row
    days_to_end = (row.end_date - today).days
    # An ended contract has no staffing risk and is listed nowhere.
    listing = _listing(parts, today, rules) if days_to_end >= 0 else None
    at_risk = listing is not None and listing.staffing_at_risk
    overdue, upcoming = _items(parts, today, at_risk)
    return ContractFacts(
        id=row.id,
        ref=row.ref,
        end=row.end_date,
        owner=row.owner,
        sponsor=row.sponsor,
        overdue=overdue,
        upcoming=upcoming,
        listed=listing.listed if listing is not None else None,
        needs_funding=listing is not None and listing.needs_funding,
        staffing_at_risk=at_risk,
        ending=0 <= days_to_end <= ENDING_DAYS,
        changes=tuple(parts.changes),
    )


# -- a batch of people -----------------------------------------------------------------------


class FactsCache:
    """Contract facts kept across the batches of one digest run, so that a contract
    shared by people in several batches is read and worked out once per run, not once
    per batch.

    For one moment (``app.now``: cleared when it changes), as the whole run is: a
    contract changed while the run goes on shows as first read, as it does to the
    people of the batches before. Bounded: beyond ``limit`` contracts, the first kept
    go first.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self.now: datetime | None = None
        self.facts: dict[int, ContractFacts] = {}

    def valid_at(self, now: datetime) -> None:
        if now != self.now:
            self.facts.clear()
            self.now = now

    def keep(self, facts: dict[int, ContractFacts]) -> None:
        self.facts.update(facts)
        excess = len(self.facts) - self.limit
        if excess > 0:
            for cid in list(itertools.islice(self.facts, excess)):
                del self.facts[cid]


@dataclass(frozen=True, kw_only=True)
class Batch:
    """What one batch of people's digests are made of, fetched in a fixed number of queries."""

    contracts: dict[int, ContractFacts]
    people_contracts: dict[str, list[int]]
    failures: dict[int, list[DigestFailure]]
    last_sent: dict[str, datetime]


#: The statements :func:`load_batch` runs, whatever the number of people or contracts.
STATEMENTS = 10

_Among = Callable[[Any, list[int]], ColumnElement[bool]]
_ByPerson = Callable[[Any], ColumnElement[bool]]

#: The contract columns the digest reads (no notes, commissioner or timestamps).
_CONTRACT_COLUMNS = (
    ContractRow.id,
    ContractRow.ref,
    ContractRow.title,
    ContractRow.provider,
    ContractRow.start_date,
    ContractRow.end_date,
    ContractRow.original_end,
    ContractRow.value,
    ContractRow.owner,
    ContractRow.sponsor,
    ContractRow.intervention_months,
    ContractRow.regime,
    ContractRow.light_touch,
    ContractRow.entered_into,
)


async def load_batch(
    session: AsyncSession, app: App, people: Sequence[str], cache: FactsCache | None = None
) -> Batch:
    """Everything the digests of ``people`` show, in :data:`STATEMENTS` statements: the
    contracts they own, sponsor or watch, and which they watch; the details of those not
    in ``cache`` (a digest run passes one along its batches, so each contract is read and
    worked out once per run); each person's last digest, and the failed deliveries about
    the contracts since the oldest of those."""
    dialect = session.get_bind().dialect.name
    cache = cache if cache is not None else FactsCache()
    cache.valid_at(app.now)
    people = list(people)

    def by_person(column: Any) -> ColumnElement[bool]:
        return one_of(dialect, column, people, String())

    def among(column: Any, ids: list[int]) -> ColumnElement[bool]:
        return one_of(dialect, column, ids, Integer())

    rows = await _contract_rows(session, by_person)
    involved = await _involvement(session, by_person, people, rows)
    parts = {row.id: _Parts(row) for row in rows if row.id not in cache.facts}
    await _read_details(session, app, among, parts)
    last_sent = await _last_sent(session, by_person)
    oldest = min([*last_sent.values(), app.now - timedelta(days=CHANGES_DAYS)])
    refs = {row.id: row.ref for row in rows}
    failures = await _failures(session, among, refs, since=oldest)
    rules = app.policy.derivation
    fresh = {cid: _facts(p, app.today, rules) for cid, p in parts.items()}
    contracts = {cid: fresh[cid] if cid in fresh else cache.facts[cid] for cid in refs}
    cache.keep(fresh)
    return Batch(
        contracts=contracts,
        people_contracts={p: sorted(cids) for p, cids in involved.items()},
        failures=failures,
        last_sent=last_sent,
    )


async def _contract_rows(session: AsyncSession, by_person: _ByPerson) -> Sequence[Any]:
    """The contracts the batch's people own, sponsor or watch (one statement)."""
    statement = select(*_CONTRACT_COLUMNS).where(involving(by_person)).order_by(ContractRow.id)
    return (await session.execute(statement)).all()


async def _involvement(
    session: AsyncSession, by_person: _ByPerson, people: list[str], rows: Sequence[Any]
) -> dict[str, set[int]]:
    """Each person's contracts: those they own or sponsor, and those they watch."""
    involved: dict[str, set[int]] = {p: set() for p in people}
    for row in rows:
        for person in (row.owner, row.sponsor):
            if person in involved:
                involved[person].add(row.id)
    watching = select(WatcherRow.contract_id, WatcherRow.email).where(by_person(WatcherRow.email))
    for cid, email in (await session.execute(watching)).all():
        involved[email].add(cid)
    return involved


async def _last_sent(session: AsyncSession, by_person: _ByPerson) -> dict[str, datetime]:
    """When each person's last digest went out (those who never had one are left out)."""
    statement = (
        select(DigestRow.recipient, func.max(DigestRow.sent_at))
        .where(by_person(DigestRow.recipient), DigestRow.status == OutboxStatus.SENT)
        .group_by(DigestRow.recipient)
    )
    rows = (await session.execute(statement)).all()
    return {person: when for person, when in rows if when is not None}


async def _failures(
    session: AsyncSession, among: _Among, refs: dict[int, str], *, since: datetime
) -> dict[int, list[DigestFailure]]:
    """The failed reminder deliveries about the contracts since ``since``, newest first."""
    # Through ix_reminders_contract_id_status: a few lookups per contract, whatever the
    # number of failures in the database (the status index alone walks every one).
    statement = (
        select(
            ReminderRow.contract_id,
            ReminderRow.updated_at,
            ReminderRow.recipient,
            ReminderRow.last_reply,
            MilestoneRow.kind,
        )
        .join(MilestoneRow, MilestoneRow.id == ReminderRow.milestone_id)
        .where(
            among(ReminderRow.contract_id, list(refs)),
            ReminderRow.status == OutboxStatus.FAILED,
            ReminderRow.updated_at >= since,
        )
        .order_by(ReminderRow.updated_at.desc(), ReminderRow.id.desc())
    )
    failures: dict[int, list[DigestFailure]] = {}
    for failed in await session.execute(statement):
        failure = DigestFailure(
            at=failed.updated_at,
            ref=refs[failed.contract_id],
            kind=failed.kind,
            recipient=failed.recipient,
            reply=failed.last_reply or "",
        )
        failures.setdefault(failed.contract_id, []).append(failure)
    return failures


async def _read_details(
    session: AsyncSession, app: App, among: _Among, parts: dict[int, _Parts]
) -> None:
    """Fill in ``parts`` in six statements: extension options, funding and cost lines (of
    the contracts not ended: no other needs them), published decisions, open decisions
    and done deciding milestones, and the change log of the last week."""
    new = list(parts)
    live = [cid for cid in new if parts[cid].row.end_date >= app.today]
    await _read_extensions(session, among(ExtensionRow.contract_id, live), parts)
    await _read_funding(session, among(FundingRow.contract_id, live), parts)
    await _read_costs(session, among(CostRow.contract_id, live), parts)
    await _read_links(session, among(DecisionRow.contract_id, new), parts)
    await _read_milestones(session, among(MilestoneRow.contract_id, new), parts)
    since = app.now - timedelta(days=CHANGES_DAYS)
    changed = and_(among(EventRow.contract_id, new), EventRow.at >= since, EventRow.at <= app.now)
    await _read_changes(session, changed, parts)


def _columns(row: Any, of: type[DataclassInstance]) -> list[Any]:
    """The columns of the table ``row`` named as the fields of the dataclass ``of``: a reader
    selects exactly what the value it builds holds."""
    return [getattr(row, f.name) for f in fields(of)]


async def _read_extensions(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    columns = _columns(ExtensionRow, ExtensionOption)
    statement = (
        select(ExtensionRow.contract_id, *columns)
        .where(wanted)
        .order_by(ExtensionRow.contract_id, ExtensionRow.seq)
    )
    for ext in await session.execute(statement):
        parts[ext.contract_id].extensions.append(extension_option(ext))


async def _read_funding(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    columns = _columns(FundingRow, FundingLine)
    statement = (
        select(FundingRow.contract_id, *columns)
        .where(wanted, FundingRow.removed_at.is_(None))
        .order_by(FundingRow.contract_id, FundingRow.year, FundingRow.id)
    )
    for line in await session.execute(statement):
        parts[line.contract_id].funding.append(funding_line(line))


async def _read_costs(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    columns = _columns(CostRow, CostLine)
    statement = (
        select(CostRow.contract_id, *columns)
        .where(wanted, CostRow.removed_at.is_(None))
        .order_by(CostRow.contract_id, CostRow.year, CostRow.id)
    )
    for cost in await session.execute(statement):
        parts[cost.contract_id].costs.append(cost_line(cost))


async def _read_links(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    """Published decision records, labelled as the reminder labels them."""
    statement = (
        select(DecisionRow.contract_id, DecisionRow.ref, DecisionRow.title, DecisionRow.url)
        .where(wanted, DecisionRow.url.is_not(None))
        .order_by(DecisionRow.contract_id, DecisionRow.decided_on, DecisionRow.id)
    )
    for decision in await session.execute(statement):
        if decision.url:
            link = DecisionLink.of(decision.ref, decision.title, decision.url)
            parts[decision.contract_id].links.append(link)


async def _read_milestones(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    """Open decisions, and the done milestones that can lift a staffing risk."""
    open_decision = and_(
        MilestoneRow.status == MilestoneStatus.OPEN.value,
        MilestoneRow.kind.not_in(_FACTS),
    )
    done_deciding = and_(
        MilestoneRow.status == MilestoneStatus.DONE.value,
        MilestoneRow.kind.in_(_DECIDING),
    )
    columns = _columns(MilestoneRow, _Milestone)
    statement = select(MilestoneRow.contract_id, *columns).where(
        wanted, or_(open_decision, done_deciding)
    )
    for m in await session.execute(statement):
        parts[m.contract_id].milestones.append(copy_row(_Milestone, m))


async def _read_changes(
    session: AsyncSession, wanted: ColumnElement[bool], parts: dict[int, _Parts]
) -> None:
    statement = (
        select(EventRow.contract_id, EventRow.at, EventRow.detail)
        .where(wanted)
        .order_by(EventRow.at.desc(), EventRow.id.desc())
    )
    for event in await session.execute(statement):
        part = parts[event.contract_id]
        part.changes.append(DigestChange(at=event.at, ref=part.row.ref, detail=event.detail))


def person_contracts(batch: Batch, person: str) -> list[ContractFacts]:
    """The person's contracts in the batch, by end date (the digest's order)."""
    return sorted(
        (batch.contracts[cid] for cid in batch.people_contracts.get(person, [])),
        key=lambda facts: (facts.end, facts.ref),
    )


def decision_items(
    contracts: Sequence[ContractFacts],
) -> tuple[list[DigestItem], list[DigestItem]]:
    """The open decisions of ``contracts``: overdue, and due within 8 weeks, each by due
    date then ref and kind. The digest and the web app's home list them so."""
    overdue = [item for facts in contracts for item in facts.overdue]
    upcoming = [item for facts in contracts for item in facts.upcoming]
    overdue.sort(key=lambda i: (i.due, i.ref, i.kind))
    upcoming.sort(key=lambda i: (i.due, i.ref, i.kind))
    return overdue, upcoming


def compose(
    app: App, batch: Batch, person: str, *, message_id: str, period_label: str, frequency: str
) -> DigestEmail:
    """One person's digest from the batch: sorted by urgency, each item with its command."""
    mine = person_contracts(batch, person)
    funding, staffing, ending = [], [], []
    changes: list[DigestChange] = []
    failures: list[DigestFailure] = []
    since = batch.last_sent.get(person, app.now - timedelta(days=CHANGES_DAYS))
    for facts in mine:
        if facts.listed is not None and (
            facts.needs_funding or facts.staffing_at_risk or facts.ending
        ):
            shown = facts.listed_as(person)
            if facts.needs_funding:
                funding.append(shown)
            if facts.staffing_at_risk:
                staffing.append(shown)
            if facts.ending:
                ending.append(shown)
        changes.extend(facts.changes)
        failures.extend(f for f in batch.failures.get(facts.id, ()) if f.at > since)
    overdue, upcoming = decision_items(mine)
    links = email_links(app.settings, app.now)
    changes.sort(key=lambda c: c.at, reverse=True)
    failures.sort(key=lambda f: f.at, reverse=True)
    return DigestEmail(
        message_id=message_id,
        sent_at=app.now,
        mail_from=app.settings.mail_from,
        recipient=person,
        period_label=period_label,
        frequency=frequency,
        overdue=_linked(overdue, person, links),
        upcoming=_linked(upcoming, person, links),
        funding=tuple(funding),
        staffing=tuple(staffing),
        ending=tuple(ending),
        changes=tuple(changes),
        failures=tuple(failures),
        settings_url=links.digest_settings(person) if links else "",
    )


def _linked(items: list[DigestItem], person: str, links: Links | None) -> tuple[DigestItem, ...]:
    """The items with the person's own Mark done and Snooze links (the facts are shared
    between people; a link is signed for one of them), and each contract's page."""
    if links is None:
        return tuple(items)
    linked = []
    for item in items:
        actions = links.actions(person, item.milestone_id, MilestoneKind(item.kind), item.due)
        item = replace(item, page_url=links.contract_page(item.ref))
        if actions is not None:
            item = replace(item, done_url=actions.done, snooze_url=actions.snooze)
        linked.append(item)
    return tuple(linked)
