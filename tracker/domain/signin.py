"""The rules of signing in by email link, without I/O: how long a link works, how many
requests an hour, what is stored of a token, and which keys a request counts against.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

#: A sign-in link works this long after it was sent, once.
LINK_MINUTES = 15
LINK_LIFE = timedelta(minutes=LINK_MINUTES)
#: At most this many sign-in requests per address, and per client, in :data:`RATE_WINDOW`
#: (so the form cannot flood a mailbox, nor be used to probe many addresses quickly).
REQUESTS_PER_WINDOW = 5
RATE_WINDOW = timedelta(hours=1)


def token_hash(token: str) -> str:
    """What is stored of a link's token: its SHA-256. The token has 256 random bits, so
    no salt or slow hash is needed; a stolen copy of the table signs nobody in."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def rate_keys(email: str, client: str) -> tuple[str, str]:
    """The two counters one request goes against: its address and its client."""
    return (f"email:{email}", f"client:{client}")
