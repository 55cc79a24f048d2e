"""``/register``, ``/register.csv`` and ``/register.xlsx``: a person's contracts.

This module turns the query string into a :class:`RegisterQuery` (a bad value is an
error summary on the page, with that value left out, never a 500) and picks the page;
the query and the visibility rule are :mod:`tracker.service.views.register`'s, the file
bytes :mod:`tracker.service.registers.register`'s, the same as ``tracker export register``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.money import format_gbp, gbp_or_unknown
from tracker.service.registers.register import RegisterRow, register_csv, register_xlsx
from tracker.service.views.register import (
    DEFAULT_ORDER,
    PAGE_SIZE,
    Order,
    RegisterFilter,
    RegisterQuery,
    Sort,
    register_download,
    register_page,
)
from tracker.web.auth import require_viewer
from tracker.web.context import WebContext
from tracker.web.layout import signed_in_page

#: Longest search text and furthest "ending within" accepted (ten years).
SEARCH_LIMIT = 200
DAYS_LIMIT = 3650
#: The filter fields a download link carries over from the page.
FILTER_FIELDS = ("owner", "commissioner", "within", "q")


@dataclass(frozen=True)
class FieldError:
    field: str
    text: str


def _whole(
    params: QueryParams, name: str, low: int, high: int, what: str
) -> tuple[int | None, FieldError | None]:
    raw = params.get(name, "").strip()
    if not raw:
        return None, None
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None, FieldError(name, f"{what} must be a whole number from {low} to {high}")
    return int(raw), None


def _filter(params: QueryParams) -> tuple[RegisterFilter, list[FieldError]]:
    errors: list[FieldError] = []
    within, error = _whole(params, "within", 0, DAYS_LIMIT, "Ending within (days)")
    errors += [error] if error else []
    search = params.get("q", "").strip() or None
    if search is not None and len(search) > SEARCH_LIMIT:
        errors.append(FieldError("q", f"Search must be {SEARCH_LIMIT} characters or fewer"))
        search = None
    chosen = RegisterFilter(
        owner=params.get("owner") or None,
        commissioner=params.get("commissioner") or None,
        ending_within=within,
        search=search,
    )
    return chosen, errors


def parse_query(params: QueryParams) -> tuple[RegisterQuery, list[FieldError]]:
    """The page asked for, and what was wrong with the query string (left out)."""
    chosen, errors = _filter(params)
    query = RegisterQuery(filter=chosen)
    sort = params.get("sort", "")
    if sort in {s.value for s in Sort}:
        query = replace(query, sort=Sort(sort), order=DEFAULT_ORDER[Sort(sort)])
    elif sort:
        errors.append(FieldError("sort", "Sort by end date, funding gap or money at risk"))
    order = params.get("order", "")
    if order in {o.value for o in Order}:
        query = replace(query, order=Order(order))
    elif order:
        errors.append(FieldError("order", "Order must be ascending or descending"))
    page, error = _whole(params, "page", 1, 10**6, "Page")
    if error:
        errors.append(error)
    elif page is not None:
        query = replace(query, page=page)
    return query, errors


def _link(query: RegisterQuery, **changes: object) -> str:
    """The query string of this register view with ``changes`` (for pagination links)."""
    chosen = query.filter
    fields: dict[str, object] = {
        "q": chosen.search,
        "owner": chosen.owner,
        "commissioner": chosen.commissioner,
        "within": chosen.ending_within,
        "sort": query.sort.value,
        "order": query.order.value,
        "page": query.page,
    }
    fields.update(changes)
    return "?" + urlencode({k: v for k, v in fields.items() if v is not None and v != ""})


async def show(request: Request) -> Response:
    viewer = require_viewer(request)
    web: WebContext = request.app.state.web
    query, errors = parse_query(request.query_params)
    fields = {error.field for error in errors}
    result = await register_page(web.app_for(viewer.email), viewer.email, viewer.admin, query)
    download = _link(query, sort=None, order=None, page=None)
    return signed_in_page(
        request,
        "register",
        400 if errors else 200,
        title="Register",
        errors=errors,
        query=query,
        result=result,
        page_size=PAGE_SIZE,
        order_chosen=request.query_params.get("order", "") if "order" not in fields else "",
        link=lambda page: _link(query, page=page),
        download=download if download != "?" else "",
        gbp=format_gbp,
        gap=gbp_or_unknown,
    )


async def _download(request: Request) -> tuple[list[RegisterRow], WebContext]:
    viewer = require_viewer(request)
    web: WebContext = request.app.state.web
    chosen, _errors = _filter(request.query_params)
    app = web.app_for(viewer.email)
    return await register_download(app, viewer.email, viewer.admin, chosen), web


def _attachment(data: bytes, media_type: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(data, media_type=media_type, headers=headers)


async def csv_file(request: Request) -> Response:
    """The register CSV of the person's contracts (filters applied, sort and page not)."""
    rows, _web = await _download(request)
    return _attachment(register_csv(rows), "text/csv; charset=utf-8", "register.csv")


async def xlsx_file(request: Request) -> Response:
    rows, web = await _download(request)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _attachment(register_xlsx(rows, web.now()), media, "register.xlsx")
