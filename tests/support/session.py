"""A signed-in browser session for tests of the pages behind sign-in.

The session cookie is made exactly as Starlette's SessionMiddleware makes it, with the
key the server derives from TRACKER_SECRET_KEY (:func:`tracker.web.auth.session_key`):
what a real sign-in would leave in the browser. Tests of the sign-in flow itself go
through the emailed link instead; every other page test starts here.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode

import httpx
import itsdangerous

from support.web import SECRET
from tracker.web.auth import SESSION_COOKIE, session_key

_CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')


def session_cookie(email: str, secret: str = SECRET) -> str:
    """The value of a session cookie that signs ``email`` in."""
    signer = itsdangerous.TimestampSigner(session_key(secret))
    return signer.sign(b64encode(json.dumps({"email": email}).encode())).decode()


def signed_in(base_url: str, email: str, secret: str = SECRET) -> httpx.Client:
    """An HTTP client at ``base_url`` signed in as ``email`` (close it after use)."""
    client = httpx.Client(base_url=base_url, timeout=10, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, session_cookie(email, secret))
    return client


def form_token(html: str) -> str:
    """The ``csrftoken`` a page's form posts back (the page's GET set its cookie)."""
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no form token"
    return found.group(1)
