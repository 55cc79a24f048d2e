"""The register page: a person's contracts, sorted, filtered, searched and paged in SQL.

Every page runs the same statements whatever the number of contracts: a count, the
page's rows (with their sort keys), the collections of those rows (selectin loading,
one statement per collection for at most one page), and the owner and commissioner
choices for the filters. What a row shows (gap, money at risk, staffing risk) comes
from :func:`tracker.service.views.contracts.summarise`, the rules every screen uses.

Sorting by gap or by money at risk needs those amounts as SQL, so :func:`gap_key` and
:func:`at_risk_key` state the two rules of :mod:`tracker.domain.funding` over the lines'
table rows (a year's shortfall is its cost less secured money, surpluses do not offset
other years, a contract without cost lines has no gap; at risk is expected or pledged
money). They are sort keys only: the amounts shown are the domain's, and a test holds
the two equal for every contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import SQLColumnExpression

from tracker.domain.types import AT_RISK_FUNDING, SECURED_FUNDING
from tracker.service.app import App
from tracker.service.registers.register import RegisterRow, register_rows
from tracker.service.views.access import visible_to
from tracker.service.views.contracts import ContractSummary, summarise
from tracker.store.models import ContractRow, CostRow, FundingRow

#: Contracts on one page of the register.
PAGE_SIZE = 20


class Sort(StrEnum):
    END = "end"
    GAP = "gap"
    RISK = "risk"


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


#: The natural direction of each sort: soonest end first, largest gap or risk first.
DEFAULT_ORDER = {Sort.END: Order.ASC, Sort.GAP: Order.DESC, Sort.RISK: Order.DESC}


@dataclass(frozen=True, kw_only=True)
class RegisterFilter:
    """Which contracts: the filters and the search (the downloads take these too)."""

    owner: str | None = None
    commissioner: str | None = None
    #: Only contracts ending between today and this many days ahead.
    ending_within: int | None = None
    #: Text found in the ref, the title or the provider (any case).
    search: str | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterQuery:
    """One page of the register: the filter, the sort and the page number (from 1)."""

    filter: RegisterFilter = RegisterFilter()
    sort: Sort = Sort.END
    order: Order = Order.ASC
    page: int = 1


@dataclass(frozen=True, kw_only=True)
class RegisterPage:
    rows: tuple[ContractSummary, ...]
    total: int
    page: int
    pages: int
    owners: tuple[str, ...]
    commissioners: tuple[str, ...]


def _live(model: type[CostRow] | type[FundingRow]) -> ColumnElement[bool]:
    return model.removed_at.is_(None)


def gap_key() -> SQLColumnExpression[object]:
    """Per contract, the sum of its years' shortfalls (NULL without cost lines): the
    SQL form of :func:`tracker.domain.funding.total_gap` over ``year_gaps``."""
    cost = (
        select(CostRow.contract_id, CostRow.year, func.sum(CostRow.amount).label("cost"))
        .where(_live(CostRow))
        .group_by(CostRow.contract_id, CostRow.year)
        .subquery()
    )
    secured = (
        select(FundingRow.contract_id, FundingRow.year, func.sum(FundingRow.amount).label("sum"))
        .where(_live(FundingRow), FundingRow.status.in_([s.value for s in SECURED_FUNDING]))
        .group_by(FundingRow.contract_id, FundingRow.year)
        .subquery()
    )
    shortfall = cost.c.cost - func.coalesce(secured.c.sum, 0)
    joined = cost.outerjoin(
        secured, and_(secured.c.contract_id == cost.c.contract_id, secured.c.year == cost.c.year)
    )
    return (
        select(func.sum(case((shortfall > 0, shortfall), else_=literal(0))))
        .select_from(joined)
        .where(cost.c.contract_id == ContractRow.id)
        .scalar_subquery()
    )


def at_risk_key() -> SQLColumnExpression[object]:
    """Per contract, its expected and pledged money (0 when none): the SQL form of
    :func:`tracker.domain.funding.total_at_risk`."""
    return func.coalesce(
        select(func.sum(FundingRow.amount))
        .where(
            FundingRow.contract_id == ContractRow.id,
            _live(FundingRow),
            FundingRow.status.in_([s.value for s in AT_RISK_FUNDING]),
        )
        .scalar_subquery(),
        0,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_clause(
    email: str, admin: bool, chosen: RegisterFilter, today: date
) -> ColumnElement[bool]:
    """The contracts this person may see (:func:`visible_to`) that the filter keeps."""
    clauses: list[ColumnElement[bool]] = [visible_to(email, admin)]
    if chosen.owner is not None:
        clauses.append(ContractRow.owner == chosen.owner)
    if chosen.commissioner is not None:
        clauses.append(ContractRow.commissioner == chosen.commissioner)
    if chosen.ending_within is not None:
        last = today + timedelta(days=chosen.ending_within)
        clauses.append(and_(ContractRow.end_date >= today, ContractRow.end_date <= last))
    if chosen.search:
        pattern = f"%{_escape_like(chosen.search.lower())}%"
        columns = (ContractRow.ref, ContractRow.title, ContractRow.provider)
        clauses.append(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
    return and_(*clauses)


def _ordered(statement: Select[ContractRow], sort: Sort, order: Order) -> Select[ContractRow]:
    """Sorted by the key, contracts without a value (no cost lines) last either way, then
    by end date and ref so that a page boundary never moves."""
    key = {Sort.END: ContractRow.end_date, Sort.GAP: gap_key(), Sort.RISK: at_risk_key()}[sort]
    direction = key.asc() if order is Order.ASC else key.desc()
    return statement.order_by(
        case((key.is_(None), 1), else_=0), direction, ContractRow.end_date, ContractRow.ref
    )


def page_count(total: int) -> int:
    """Pages of :data:`PAGE_SIZE` (one, empty, when nothing matches)."""
    return max(1, -(-total // PAGE_SIZE))


async def register_page(app: App, email: str, admin: bool, query: RegisterQuery) -> RegisterPage:
    """One page of the person's register; a page past the last shows the last."""
    where = filter_clause(email, admin, query.filter, app.today)
    visible = visible_to(email, admin)
    async with app.session() as session:
        total = (
            await session.execute(select(func.count(ContractRow.id)).where(where))
        ).scalar_one()
        page = min(query.page, page_count(total))
        statement = _ordered(select(ContractRow).where(where), query.sort, query.order)
        statement = statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        rows = (await session.execute(statement)).scalars().all()
        summaries = tuple(summarise(row, app) for row in rows)
        owners = await session.execute(
            select(ContractRow.owner).where(visible, ContractRow.owner.is_not(None)).distinct()
        )
        commissioners = await session.execute(
            select(ContractRow.commissioner)
            .where(visible, ContractRow.commissioner.is_not(None))
            .distinct()
        )
        return RegisterPage(
            rows=summaries,
            total=total,
            page=page,
            pages=page_count(total),
            owners=tuple(sorted(o for o in owners.scalars() if o)),
            commissioners=tuple(sorted(c for c in commissioners.scalars() if c)),
        )


async def register_download(
    app: App, email: str, admin: bool, chosen: RegisterFilter
) -> list[RegisterRow]:
    """The rows ``tracker export register`` writes, for the contracts this person may see
    that the filter keeps."""
    return await register_rows(app, where=filter_clause(email, admin, chosen, app.today))
