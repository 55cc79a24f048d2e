"""``import --update`` of a contract's funding and cost lines and its extension options.

A file's line is matched to a stored one by its id (``F3``, ``C7``) when it gives one,
else by financial year and source (funding), year and category (cost), or the option's
``until`` date. A matched line that differs is changed, a new one added, and, when the
file gives the list at all, a stored line the file leaves out is removed (kept in the
history): each exactly as ``funding set|add|remove`` and ``cost set|add|remove`` do it,
through their own functions (confirming a line closes the funding-confirmation
milestones it satisfied). Only available options change; taken, declined or lapsed
ones are history and left as they are. The caller re-derives and re-plans once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.domain.dates import format_uk
from tracker.domain.types import EventKind, ExtensionStatus, FinancialYear
from tracker.errors import InvalidOperation, InvalidValue
from tracker.service.app import App
from tracker.service.contracts import append_cost, append_funding, extension_row
from tracker.service.derive import record_event
from tracker.service.lines import (
    CostChange,
    FundingChange,
    change_cost,
    change_funding,
    describe_cost,
    describe_funding,
    remove_line,
)
from tracker.service.registers.inputs import (
    ContractInput,
    CostInput,
    ExtensionInput,
    FundingInput,
)
from tracker.store.models import (
    ContractRow,
    ExtensionRow,
    FundingRow,
    cost_id,
    funding_id,
    live_lines,
)

Stored = TypeVar("Stored")
Given = TypeVar("Given")


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    """One field or line an update changes, both values as the dry run prints them
    (``end: 31 Mar 2020 -> 30 Jun 2020``, ``funding F3: ... (expected) -> ... (confirmed)``)."""

    field: str
    old: str
    new: str


def _line(field: str, old: str, new: str) -> FieldChange:
    return FieldChange(field=field, old=old, new=new)


@dataclass
class Matched(Generic[Stored, Given]):
    """The file's lines against the stored ones: pairs, new in the file, left out of it."""

    pairs: list[tuple[Stored, Given]]
    new: list[Given]
    gone: list[Stored]


def match(
    stored: Sequence[Stored],
    given: Sequence[Given],
    key: Callable[[Stored], Any],
    wanted: Callable[[Given], Any],
    ident: Callable[[Given], tuple[str | None, Callable[[Stored], str]]] | None = None,
    what: str = "funding",
) -> Matched[Stored, Given]:
    """Pair each given line with a stored one: by the id it gives, else by ``key``."""
    left = list(stored)
    result: Matched[Stored, Given] = Matched([], [], [])
    for item in given:
        line_id, name = ident(item) if ident is not None else (None, str)
        if line_id is not None:
            found = next((s for s in left if name(s).upper() == line_id.strip().upper()), None)
            if found is None:
                known = ", ".join(name(s) for s in stored) or "none"
                raise InvalidValue(f"{what}.id", line_id, f"is not one of its lines ({known})")
        else:
            found = next((s for s in left if key(s) == wanted(item)), None)
        if found is None:
            result.new.append(item)
        else:
            left.remove(found)
            result.pairs.append((found, item))
    result.gone = left
    return result


def _funding_change(line: FundingRow, item: FundingInput) -> FundingChange:
    if (line.source, line.year) != (item.source, item.year.start_year):
        was = f"{line.source} {FinancialYear(line.year)}"
        raise InvalidValue(
            "funding.id", item.id, f"is {was}: a line's source and year stay (remove it, add one)"
        )
    return FundingChange(
        status=item.status if item.status_given and item.status.value != line.status else None,
        amount=item.amount if item.amount != line.amount else None,
        confirm_by=item.confirm_by if item.confirm_by not in (None, line.confirm_by) else None,
    )


def _funding(
    session: AsyncSession, row: ContractRow, given: Sequence[FundingInput], app: App
) -> list[FieldChange]:
    found = match(
        live_lines(row.funding),
        given,
        lambda s: (s.year, s.source),
        lambda g: (g.year.start_year, g.source),
        lambda g: (g.id, funding_id),
    )
    changes = []
    for line, item in found.pairs:
        change = _funding_change(line, item)
        if change != FundingChange():
            was = describe_funding(line)
            change_funding(session, row, line, change, app)
            changes.append(_line(f"funding {funding_id(line)}", was, describe_funding(line)))
    for item in found.new:
        kind, detail = append_funding(row, item)
        session.add(record_event(row, kind, detail, app.now))
        added = row.funding[-1]
        changes.append(_line(f"funding {funding_id(added)}", "-", describe_funding(added)))
    for line in found.gone:
        was = describe_funding(line)
        remove_line(session, row, line, app)
        changes.append(_line(f"funding {funding_id(line)}", was, "removed"))
    return changes


async def _costs(
    session: AsyncSession, row: ContractRow, given: Sequence[CostInput], app: App
) -> list[FieldChange]:
    found = match(
        live_lines(row.costs),
        given,
        lambda s: (s.year, s.category),
        lambda g: (g.year.start_year, g.category),
        lambda g: (g.id, cost_id),
        "costs",
    )
    changes = []
    for line, item in found.pairs:
        change = CostChange(
            amount=item.amount if item.amount != line.amount else None,
            category=item.category if item.category != line.category else None,
            year=item.year if item.year.start_year != line.year else None,
        )
        if change != CostChange():
            was = describe_cost(line)
            change_cost(session, row, line, change, app)
            changes.append(_line(f"cost {cost_id(line)}", was, describe_cost(line)))
    for item in found.new:
        detail = await append_cost(session, row, item)
        session.add(record_event(row, EventKind.COST_ADDED, detail, app.now))
        added = row.costs[-1]
        changes.append(_line(f"cost {cost_id(added)}", "-", describe_cost(added)))
    for line in found.gone:
        was = describe_cost(line)
        remove_line(session, row, line, app)
        changes.append(_line(f"cost {cost_id(line)}", was, "removed"))
    return changes


def describe_option(option: ExtensionRow | ExtensionInput) -> str:
    """``to 31 Mar 2026, notice by 30 Sep 2024`` (or ``90 days' notice``)."""
    notice = (
        f"notice by {format_uk(option.notice_by)}"
        if option.notice_by is not None
        else f"{option.notice_days} days' notice"
    )
    return f"to {format_uk(option.until)}, {notice}"


def _option_log(session: AsyncSession, row: ContractRow, app: App, what: str) -> None:
    detail = f"{row.ref}: extension option {what}"
    session.add(record_event(row, EventKind.CONTRACT_UPDATED, detail, app.now))


def _options(
    session: AsyncSession, row: ContractRow, given: Sequence[ExtensionInput], app: App
) -> list[FieldChange]:
    available = ExtensionStatus.AVAILABLE.value
    found = match(list(row.extensions), given, lambda s: s.until, lambda g: g.until)
    changes = []
    for option, item in found.pairs:
        if (option.notice_days, option.notice_by) == (item.notice_days, item.notice_by):
            continue
        if option.status != available:
            raise InvalidOperation(
                f"{row.ref}: the extension option to {format_uk(option.until)} is "
                f"{option.status}; its notice cannot change"
            )
        was = describe_option(option)
        option.notice_days, option.notice_by = item.notice_days, item.notice_by
        _option_log(session, row, app, f"{was} -> {describe_option(option)}")
        changes.append(_line(f"option {option.seq}", was, describe_option(option)))
    for item in found.new:
        seq = max((e.seq for e in row.extensions), default=0) + 1
        row.extensions.append(extension_row(item, seq))
        _option_log(session, row, app, f"{seq} {describe_option(item)} added")
        changes.append(_line(f"option {seq}", "-", describe_option(item)))
    for option in found.gone:
        if option.status == available:
            row.extensions.remove(option)
            _option_log(session, row, app, f"{option.seq} {describe_option(option)} removed")
            changes.append(_line(f"option {option.seq}", describe_option(option), "removed"))
    return changes


async def apply_lines(
    session: AsyncSession, row: ContractRow, data: ContractInput, given: frozenset[str], app: App
) -> list[FieldChange]:
    """The file's funding, costs and options applied to the loaded contract (only the
    lists the file gives); returns each line's change."""
    changes = []
    if "funding" in given:
        changes += _funding(session, row, data.funding, app)
    if "costs" in given:
        changes += await _costs(session, row, data.costs, app)
    if "extensions" in given:
        changes += _options(session, row, data.extensions, app)
    return changes
