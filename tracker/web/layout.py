"""Pages for a signed-in person: every page gets who is signed in (for the header and
its sign-out form) and the form token (for the ``csrf`` macro in ``_parts.html``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from tracker.web.auth import viewer_of
from tracker.web.csrf import csrf_token
from tracker.web.pages import page


def signed_in_page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``templates/web/{name}.html`` with ``viewer`` and ``csrf_token`` added."""
    return page(
        name,
        status,
        viewer=viewer_of(request),
        csrf_token=csrf_token(request),
        path=request.url.path,
        **context,
    )
