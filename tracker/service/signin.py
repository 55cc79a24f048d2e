"""Signing in by email link: ask for a link, look at it, use it.

``request_link`` counts the request (per address and per client, in the database),
then, only for a person the tracker knows (:func:`tracker.store.signin.known_person`),
stores a fresh link's hash and returns the email to send. The caller answers every
request with the same page, known or not, limited or not, and sends the email after the
answer has gone, so neither the words nor the timing tell whether an address is known.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.utils import make_msgid

from tracker.domain.reminders import mail_domain
from tracker.domain.signin import (
    LINK_LIFE,
    LINK_MINUTES,
    RATE_WINDOW,
    REQUESTS_PER_WINDOW,
    rate_keys,
    token_hash,
)
from tracker.mail.model import SignInEmail
from tracker.service.app import App
from tracker.store.signin import known_person, store_link, usable_link, use_link, within_limit


@dataclass(frozen=True)
class LinkRequest:
    """What became of a request (for the log and tests; the page never shows it)."""

    limited: bool
    email: SignInEmail | None  # None: nothing to send


async def request_link(
    app: App, email: str, client: str, next_path: str, base_url: str
) -> LinkRequest:
    """Count the request; for a known person within the limit, a new link's email."""
    now = app.clock()
    async with app.session() as session:
        allowed = await within_limit(
            session,
            rate_keys(email, client),
            now=now,
            limit=REQUESTS_PER_WINDOW,
            window=RATE_WINDOW,
        )
        if not allowed:
            return LinkRequest(limited=True, email=None)
        if not await known_person(session, email, app.settings.admins):
            return LinkRequest(limited=False, email=None)
        token = secrets.token_urlsafe(32)
        expires = now + LINK_LIFE
        await store_link(
            session,
            token_hash=token_hash(token),
            email=email,
            next_path=next_path,
            now=now,
            expires_at=expires,
        )
    message = SignInEmail(
        message_id=make_msgid(domain=mail_domain(app.settings.mail_from)),
        sent_at=now,
        mail_from=app.settings.mail_from,
        recipient=email,
        url=f"{base_url}/sign-in/{token}",
        minutes=LINK_MINUTES,
        expires_at=expires,
    )
    return LinkRequest(limited=False, email=message)


async def link_is_usable(app: App, token: str) -> bool:
    """Whether the link would sign in now (the Continue page; changes nothing)."""
    async with app.session() as session:
        return await usable_link(session, token_hash(token), app.clock()) is not None


async def redeem_link(app: App, token: str) -> tuple[str, str] | None:
    """Use the link: (email, where to go next), or None when used, expired or unknown."""
    async with app.session() as session:
        return await use_link(session, token_hash(token), app.clock())


async def send_sign_in(app: App, message: SignInEmail) -> str:
    """Send the sign-in email at once through the configured transport; the server's
    reply (or why not) as one line, for the log. Never raises: the person has already
    been told to check their email, and can ask again."""
    from tracker.mail.sign_in import build_sign_in
    from tracker.mail.transport import make_transport

    try:
        async with make_transport(app.settings) as transport:
            outcomes = await transport.send(build_sign_in(message), [message.recipient])
    except Exception as exc:  # a mail setting or the server: logged, the page is the same
        return f"not sent ({type(exc).__name__}: {exc})"
    return "; ".join(f"{o.outcome.value} {o.reply}" for o in outcomes.values())
