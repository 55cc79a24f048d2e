"""A one-time message carried from a POST to the page it redirects to.

The home and contract pages' forms post, then redirect back (post/redirect/get, so a
reload never posts twice); what happened travels in the signed session cookie and is
shown once, in a banner at the top of the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

_KEY = "flash"


@dataclass(frozen=True)
class Flash:
    #: "success" (something was recorded), "info" (nothing changed), "error" (refused).
    kind: str
    heading: str
    text: str


def flash(request: Request, kind: str, heading: str, text: str) -> None:
    request.session[_KEY] = {"kind": kind, "heading": heading, "text": text}


def take_flash(request: Request) -> Flash | None:
    """The waiting message, removed so that it shows once."""
    raw = request.session.pop(_KEY, None)
    if not isinstance(raw, dict):
        return None
    try:
        return Flash(kind=str(raw["kind"]), heading=str(raw["heading"]), text=str(raw["text"]))
    except KeyError:
        return None
