"""The digest reads only what it shows and works each contract out once per run; what
it shows is what the read models say (``tracker.service.views.contracts.summarise``, which ``show``,
``list``, ``gaps`` and the reminders use).

The reference below is the digest as it was built before: every contract loaded with all
its collections and summarised, then picked per person. On both backends, at several
moments, for contracts covering each rule the digest shows (overdue, due soon, snoozed,
two open milestones of one kind, ended, decided, at staffing risk, funding at risk,
stated totals that disagree, published decisions, changes, failed deliveries before and
after a person's last digest), every person's digest must be equal, with and without
the cache a run passes along its batches.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from support.people import OLIVIA

from tracker.domain.types import MilestoneKind, MilestoneStatus
from tracker.domain.wording import KIND_LABELS
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
from tracker.service.contracts import add_contracts, extend
from tracker.service.digest.gather import (
    CHANGES_DAYS,
    ENDING_DAYS,
    UPCOMING_DAYS,
    ContractFacts,
    FactsCache,
    all_recipients,
    compose,
    load_batch,
)
from tracker.service.milestones import close_milestone, snooze_milestone
from tracker.service.registers.inputs import ContractInput
from tracker.service.reminders.compose import decision_links
from tracker.service.views.contracts import ContractSummary, MilestoneView, summarise
from tracker.store.models import (
    ContractRow,
    DigestRow,
    EventRow,
    MilestoneRow,
    ReminderRow,
    WatcherRow,
)
from tracker.store.outbox import OutboxStatus

Build = Callable[..., ContractInput]
AppAt = Callable[[datetime], Awaitable[App]]

CFO = "cfo@example.org"
WATCHER = "watcher@example.org"
OTHER = "other@example.org"
KW = {"message_id": "<m@example.org>", "period_label": "week of 3 Jun 2024", "frequency": "weekly"}


# -- the reference: summarise every contract, then pick -----------------------------------


def _item(
    view: MilestoneView, summary: ContractSummary, title: str, links: tuple[DecisionLink, ...]
) -> DigestItem:
    ref = shlex.quote(summary.ref)
    # The reminder's snooze command: a concrete day a week ahead (the view knows today).
    week_ahead = (view.due - timedelta(days=view.days_left) + timedelta(days=7)).isoformat()
    return DigestItem(
        ref=summary.ref,
        contract_title=title,
        kind=view.kind.value,
        kind_label=KIND_LABELS[view.kind],
        title=view.title,
        due=view.due,
        days_left=view.days_left,
        if_missed=view.if_missed,
        close_command=view.command or f"tracker milestone done {view.id}",
        snooze_command=f'tracker milestone snooze {ref} {view.kind.value} --until {week_ahead} --note "why"',
        snoozed_until=view.snoozed_until,
        snooze_note=view.snooze_note,
        staffing_at_risk=summary.staffing.at_risk,
        decision_links=links,
        milestone_id=view.id,
    )


def _contract(summary: ContractSummary, role: str) -> DigestContract:
    return DigestContract(
        ref=summary.ref,
        title=summary.title,
        provider=summary.provider,
        end=summary.end,
        days_to_end=summary.days_to_end,
        role=role,
        staffing_at_risk=summary.staffing.at_risk,
        staffing_summary=summary.staffing.summary,
        gaps=tuple(
            GapRow(year=str(g.year), cost=g.cost, secured=g.secured, at_risk=g.at_risk, gap=g.gap)
            for g in summary.gaps
            if g.in_term
        ),
        warnings=summary.warnings,
    )


@dataclass
class _Reference:
    rows: dict[int, ContractRow]
    summaries: dict[int, ContractSummary]
    events: dict[int, list[EventRow]]
    failures: dict[int, list[tuple[ReminderRow, str]]]
    last_sent: dict[str, datetime]


async def _reference(app: App, people: Sequence[str]) -> dict[str, DigestEmail]:
    async with app.session() as session:
        watched = select(WatcherRow.contract_id).where(WatcherRow.email.in_(list(people)))
        rows = (
            (
                await session.execute(
                    select(ContractRow).where(
                        or_(
                            ContractRow.owner.in_(list(people)),
                            ContractRow.sponsor.in_(list(people)),
                            ContractRow.id.in_(watched),
                        )
                    )
                )
            )
            .scalars()
            .all()
        )
        since = app.now - timedelta(days=CHANGES_DAYS)
        events: dict[int, list[EventRow]] = {}
        for event in (
            await session.execute(
                select(EventRow)
                .where(EventRow.at >= since, EventRow.at <= app.now)
                .order_by(EventRow.at.desc(), EventRow.id.desc())
            )
        ).scalars():
            events.setdefault(event.contract_id, []).append(event)
        last_sent = {
            person: when
            for person, when in (
                await session.execute(
                    select(DigestRow.recipient, func.max(DigestRow.sent_at))
                    .where(DigestRow.status == OutboxStatus.SENT)
                    .group_by(DigestRow.recipient)
                )
            ).all()
            if when is not None
        }
        failures: dict[int, list[tuple[ReminderRow, str]]] = {}
        for reminder, kind in (
            await session.execute(
                select(ReminderRow, MilestoneRow.kind)
                .join(MilestoneRow, MilestoneRow.id == ReminderRow.milestone_id)
                .where(ReminderRow.status == OutboxStatus.FAILED)
                .order_by(ReminderRow.updated_at.desc(), ReminderRow.id.desc())
            )
        ).all():
            failures.setdefault(reminder.contract_id, []).append((reminder, kind))
        ref = _Reference(
            {r.id: r for r in rows},
            {r.id: summarise(r, app) for r in rows},
            events,
            failures,
            last_sent,
        )
        return {person: _reference_digest(app, ref, person) for person in people}


def _reference_digest(app: App, ref: _Reference, person: str) -> DigestEmail:
    mine = sorted(
        (
            cid
            for cid, row in ref.rows.items()
            if person in (row.owner, row.sponsor, *(w.email for w in row.watchers))
        ),
        key=lambda cid: (ref.rows[cid].end_date, ref.rows[cid].ref),
    )
    overdue: list[DigestItem] = []
    upcoming: list[DigestItem] = []
    funding, staffing, ending = [], [], []
    changes: list[DigestChange] = []
    failures: list[DigestFailure] = []
    since = ref.last_sent.get(person, app.now - timedelta(days=CHANGES_DAYS))
    for cid in mine:
        row, summary = ref.rows[cid], ref.summaries[cid]
        role = "owner" if row.owner == person else "sponsor" if row.sponsor == person else "watcher"
        links = decision_links(row)
        for view in summary.milestones:
            if not view.is_decision or view.status != MilestoneStatus.OPEN:
                continue
            if view.days_left < 0:
                overdue.append(_item(view, summary, row.title, links))
            elif view.days_left <= UPCOMING_DAYS:
                upcoming.append(_item(view, summary, row.title, links))
        if summary.days_to_end >= 0 and any(
            g.in_term and ((g.gap is not None and g.gap > 0) or g.at_risk > 0) for g in summary.gaps
        ):
            funding.append(_contract(summary, role))
        if summary.staffing.at_risk:
            staffing.append(_contract(summary, role))
        if 0 <= summary.days_to_end <= ENDING_DAYS:
            ending.append(_contract(summary, role))
        changes.extend(
            DigestChange(at=e.at, ref=row.ref, detail=e.detail) for e in ref.events.get(cid, [])
        )
        failures.extend(
            DigestFailure(
                at=r.updated_at,
                ref=row.ref,
                kind=kind,
                recipient=r.recipient,
                reply=r.last_reply or "",
            )
            for r, kind in ref.failures.get(cid, [])
            if r.updated_at > since
        )
    overdue.sort(key=lambda i: (i.due, i.ref, i.kind))
    upcoming.sort(key=lambda i: (i.due, i.ref, i.kind))
    changes.sort(key=lambda c: c.at, reverse=True)
    failures.sort(key=lambda f: f.at, reverse=True)
    return DigestEmail(
        message_id=KW["message_id"],
        sent_at=app.now,
        mail_from=app.settings.mail_from,
        recipient=person,
        period_label=KW["period_label"],
        frequency=KW["frequency"],
        overdue=tuple(overdue),
        upcoming=tuple(upcoming),
        funding=tuple(funding),
        staffing=tuple(staffing),
        ending=tuple(ending),
        changes=tuple(changes),
        failures=tuple(failures),
    )


# -- the contracts -------------------------------------------------------------------------


def _contracts(contract: Build) -> list[ContractInput]:
    return [
        # A gap in 2025/26, an extension year of unknown cost, not yet at staffing risk.
        contract(ref="BASE", watchers=[WATCHER]),
        # Ends in four months with its extension notice due within 8 weeks: at staffing
        # risk; funding for this year expected, not confirmed.
        contract(
            ref="SOON",
            owner=OLIVIA,
            start="2023-04-01",
            end="2024-09-30",
            extensions=[{"until": "2025-09-30", "notice_days": 90}],
            funding=[
                {"source": "PCC", "year": "2024/25", "amount": "900", "status": "expected"},
                {"source": "Grant", "year": "2023/24", "amount": "1000", "status": "received"},
            ],
            costs=[{"year": "2023/24", "amount": "1000"}, {"year": "2024/25", "amount": "1000"}],
            decisions=[
                {"id": "12/2023", "date": "2023-03-01", "url": "https://example.org/d/12"},
                {"id": "13/2023", "date": "2023-03-02", "title": "Not published"},
                {
                    "id": "20/2024",
                    "date": "2024-05-20",
                    "url": "https://example.org/d/20",
                    "title": "Award",
                },
            ],
        ),
        # Ended: still open decisions overdue (listed), in no contract section.
        contract(
            ref="ENDED",
            owner=OLIVIA,
            sponsor=OTHER,
            start="2022-04-01",
            end="2024-03-31",
            extensions=None,
            funding=None,
            costs=None,
            milestones=[{"kind": "review", "due": "2024-05-01", "title": "Exit review"}],
        ),
        # Two open reviews (so each closes by id), one snoozed; one overdue publication,
        # a far custom milestone; stated value disagrees with its lines.
        contract(
            ref="TWO REVIEWS",
            owner=CFO,
            sponsor=OLIVIA,
            watchers=[WATCHER, OTHER],
            value="1234.56",
            milestones=[
                {"kind": "review", "due": "2024-06-20", "title": "Mid review"},
                {"kind": "review", "due": "2024-07-10", "title": "Second review"},
                {"kind": "publication", "due": "2024-05-20"},
                {"kind": "custom", "due": "2025-12-01", "title": "Far away"},
            ],
        ),
        # Its extension notice done: decided, not at risk.
        contract(
            ref="DECIDED",
            owner=OTHER,
            sponsor=CFO,
            start="2023-04-01",
            end="2025-01-31",
            extensions=[{"until": "2026-01-31", "notice_days": 120}],
        ),
        # Extension declined: the continuation decision stays for the exit plan.
        contract(
            ref="DECLINED",
            owner=WATCHER,
            sponsor=OLIVIA,
            start="2023-04-01",
            end="2024-12-31",
            extensions=[{"until": "2025-12-31", "notice_days": 90}],
        ),
    ]


async def _setup(app: App, contract: Build) -> None:
    await add_contracts(app, _contracts(contract))
    two = {"ref": "TWO REVIEWS", "kind": MilestoneKind.REVIEW}
    async with app.session() as session:
        reviews = (
            await session.execute(
                select(MilestoneRow.id)
                .join(ContractRow, ContractRow.id == MilestoneRow.contract_id)
                .where(ContractRow.ref == two["ref"], MilestoneRow.kind == "review")
                .order_by(MilestoneRow.due)
            )
        ).scalars()
        first_review = next(iter(reviews))
    await snooze_milestone(
        app,
        ref=None,
        kind=None,
        milestone_id=first_review,
        until=date(2024, 6, 14),
        note="waiting for the board",
    )
    await close_milestone(
        app,
        ref="DECIDED",
        kind=MilestoneKind.EXTENSION_NOTICE,
        milestone_id=None,
        status=MilestoneStatus.DONE,
        note="options appraisal agreed",
    )
    await extend(app, "DECLINED", decline=True)
    async with app.session() as session:
        # Failed deliveries about three contracts: an hour, two days and three weeks ago.
        for ref in ("BASE", "SOON", "TWO REVIEWS"):
            ids = list(
                (
                    await session.execute(
                        select(ReminderRow.id)
                        .join(ContractRow, ContractRow.id == ReminderRow.contract_id)
                        .where(ContractRow.ref == ref)
                        .order_by(ReminderRow.id)
                        .limit(3)
                    )
                ).scalars()
            )
            for n, when in enumerate((timedelta(hours=1), timedelta(days=2), timedelta(days=21))):
                await session.execute(
                    update(ReminderRow)
                    .where(ReminderRow.id == ids[n])
                    .values(
                        status=OutboxStatus.FAILED,
                        updated_at=app.now - when,
                        last_reply=f"550 bounce {n}",
                    )
                )
        # Olivia's last digest went out yesterday; the CFO's a month ago.
        for person, week, days in ((OLIVIA, "2024-W22", 1), (CFO, "2024-W18", 30)):
            at = app.now - timedelta(days=days)
            session.add(
                DigestRow(
                    recipient=person, period=week, scheduled_at=at, status=OutboxStatus.SENT, attempts=1,
                    message_id=f"<{person}>", due_at=at, sent_at=at, created_at=at, updated_at=at,
                )
            )  # fmt: skip
        await session.commit()


async def test_every_digest_is_what_the_read_models_say(
    app: App, app_at: AppAt, contract: Build
) -> None:
    await _setup(app, contract)
    for days in (0, 20, 45, 119, 130, 250, 400):  # 119: SOON ends that day
        later = await app_at(app.now + timedelta(days=days))
        async with later.session() as session:
            people = await all_recipients(session)
        assert set(people) == {OLIVIA, CFO, WATCHER, OTHER, "owner@example.org"}
        expected = await _reference(later, people)
        async with later.session() as session:
            whole = await load_batch(session, later, people)
        cache = FactsCache()
        in_parts = []
        for part in ([OLIVIA, WATCHER], [CFO], [OTHER, "owner@example.org"]):
            async with later.session() as session:
                in_parts.append((part, await load_batch(session, later, part, cache)))
        for person in people:
            assert compose(later, whole, person, **KW) == expected[person], (days, person)
        for part, batch in in_parts:
            for person in part:
                assert compose(later, batch, person, **KW) == expected[person], (days, person)


async def test_the_reference_sees_what_the_digest_must_show(app: App, contract: Build) -> None:
    """The data above exercises each rule (else the comparison proves little)."""
    await _setup(app, contract)
    digests = await _reference(app, [OLIVIA, CFO, WATCHER, OTHER])
    olivia, cfo = digests[OLIVIA], digests[CFO]
    assert {i.ref for i in olivia.overdue} >= {"ENDED", "TWO REVIEWS"}
    assert any(i.ref == "SOON" and i.kind == "extension_notice" for i in olivia.upcoming)
    assert any(i.snoozed_until == date(2024, 6, 14) for i in olivia.upcoming)
    reviews = [i for i in olivia.upcoming if i.ref == "TWO REVIEWS" and i.kind == "review"]
    assert len(reviews) == 2 and all(i.close_command.endswith(tuple("0123456789")) for i in reviews)
    assert any(i.decision_links and i.staffing_at_risk for i in olivia.upcoming)
    assert [c.ref for c in olivia.staffing] == ["SOON", "DECLINED"]
    assert "SOON" in {c.ref for c in olivia.funding}
    assert any(c.warnings for c in olivia.ending + olivia.funding)
    assert {c.role for c in olivia.ending} >= {"owner", "sponsor"}
    assert olivia.changes and 0 < len(olivia.failures) < len(cfo.failures)
    decided = [c for c in digests[OTHER].ending if c.ref == "DECIDED"]
    assert decided and decided[0].staffing_summary.startswith("Decided")


def _facts(cid: int) -> ContractFacts:
    return ContractFacts(
        id=cid, ref=f"C{cid}", end=date(2025, 3, 31), owner=OLIVIA, sponsor=CFO, overdue=(),
        upcoming=(), listed=None, needs_funding=False, staffing_at_risk=False, ending=False,
        changes=(),
    )  # fmt: skip


def test_the_cache_is_for_one_moment_and_bounded() -> None:
    cache = FactsCache(limit=3)
    now = datetime(2024, 6, 3, 9, tzinfo=UTC)
    cache.valid_at(now)
    cache.keep({1: _facts(1), 2: _facts(2)})
    cache.valid_at(now)
    assert list(cache.facts) == [1, 2]
    cache.keep({3: _facts(3), 4: _facts(4)})
    assert list(cache.facts) == [2, 3, 4]  # the first kept went first
    cache.valid_at(now + timedelta(minutes=1))
    assert cache.facts == {}
