"""``/funding``: gaps and money at risk by financial year across the person's contracts.

The figures are :func:`tracker.service.views.funding.funding_by_year`'s; this module
adds the chart's geometry (:mod:`tracker.web.chart`) and picks the page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker.domain.money import format_gbp, gbp_or_unknown
from tracker.service.views.funding import funding_by_year
from tracker.web.auth import require_viewer
from tracker.web.chart import bar_chart
from tracker.web.context import WebContext
from tracker.web.layout import signed_in_page


async def show(request: Request) -> Response:
    viewer = require_viewer(request)
    web: WebContext = request.app.state.web
    years = await funding_by_year(web.app_for(viewer.email), viewer.email, viewer.admin)
    chart = bar_chart([(str(y.year), y.gap, y.at_risk) for y in years])
    return signed_in_page(
        request,
        "funding",
        title="Funding",
        years=years,
        chart=chart,
        gbp=format_gbp,
        gap=gbp_or_unknown,
    )
