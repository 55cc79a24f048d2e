"""The pages: Jinja2 templates in ``templates/web/`` (package data, like the emails').

Autoescape is on for every page, and the user's text only ever arrives as data.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, Response

from tracker.domain.dates import format_uk


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.templates", "web"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["ukdate"] = format_uk
    return env


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``templates/web/{name}.html`` as a response."""
    html = _environment().get_template(f"{name}.html").render(**context)
    return HTMLResponse(html, status_code=status)


def notice(
    heading: str,
    *paragraphs: str,
    status: int = 200,
    caption: str = "",
    people: tuple[tuple[str, str], ...] = (),
) -> HTMLResponse:
    """A page that says one thing in plain words (a refusal, or that nothing changed)."""
    return page(
        "notice",
        status,
        title=heading,
        heading=heading,
        paragraphs=paragraphs,
        caption=caption,
        people=people,
    )


@lru_cache(maxsize=1)
def _stylesheet() -> bytes:
    return files("tracker.templates").joinpath("web/static/site.css").read_bytes()


def stylesheet() -> Response:
    """The one stylesheet, cached by browsers for a day."""
    return Response(
        _stylesheet(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )
