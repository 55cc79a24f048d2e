"""The signed tokens in emails' links: what a link may do, for whom, until when.

A token is itsdangerous's ``URLSafeTimedSerializer`` over a small JSON payload, with one
salt per purpose (done, snooze, digest settings), so a token made for one purpose never
verifies as another. The signing time is the email's own moment (``--now`` when the
sweep ran with one), and a token's age is measured against the reader's moment, so
expiry follows the same clock as everything else in the tracker (and tests can pass
time in). No part of this is hand-rolled: the HMAC, encoding and timestamp are
itsdangerous's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer


class Purpose(StrEnum):
    DONE = "done"
    SNOOZE = "snooze"
    DIGEST = "digest"


#: The purposes an ``/act/{token}`` link can carry (one path for both, the token says which).
ACTIONS = (Purpose.DONE, Purpose.SNOOZE)

_SALT = "contract-tracker.link."


@dataclass(frozen=True)
class Link:
    """What a verified token says: the action, the recipient, and what it was about."""

    purpose: Purpose
    recipient: str
    issued: datetime  # aware UTC: when the email was made
    milestone_id: int | None = None  # None for digest settings
    due: date | None = None  # the due date the email was about


class LinkRefused(Exception):
    """A token that cannot be used: tampered, truncated, expired or for another purpose."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def _signer(clock: Callable[[], datetime]) -> type[TimestampSigner]:
    """A TimestampSigner whose "now" is ``clock``: signing stamps the email's moment and
    verifying measures the age at the reader's moment."""

    class _ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return _ClockSigner


def _serializer(secret: str, purpose: Purpose, clock: Callable[[], datetime]) -> Any:
    return URLSafeTimedSerializer(secret, salt=_SALT + purpose.value, signer=_signer(clock))


def issue(secret: str, link: Link) -> str:
    """The token for ``link``, stamped with ``link.issued``."""
    payload: dict[str, Any] = {"r": link.recipient}
    if link.milestone_id is not None:
        payload["m"] = link.milestone_id
    if link.due is not None:
        payload["d"] = link.due.isoformat()
    token: str = _serializer(secret, link.purpose, lambda: link.issued).dumps(payload)
    return token


def verify(
    secret: str, token: str, purposes: tuple[Purpose, ...], *, now: datetime, valid_days: int
) -> Link:
    """The link ``token`` stands for, if it is signed for one of ``purposes`` and younger
    than ``valid_days`` at ``now``; else :class:`LinkRefused`."""
    max_age = int(timedelta(days=valid_days).total_seconds())
    expired = False
    for purpose in purposes:
        serializer = _serializer(secret, purpose, lambda: now)
        try:
            payload, stamped = serializer.loads(token, max_age=max_age, return_timestamp=True)
        except SignatureExpired:
            expired = True
            continue
        except BadData:
            continue
        return _link(purpose, payload, stamped)
    if expired:
        raise LinkRefused("the link has expired", expired=True)
    raise LinkRefused("the link is not one this tracker made")


def _link(purpose: Purpose, payload: Any, stamped: datetime) -> Link:
    """The payload read back; a signed payload of the wrong shape is refused all the same."""
    try:
        recipient = str(payload["r"])
        milestone = payload.get("m")
        due = payload.get("d")
        return Link(
            purpose=purpose,
            recipient=recipient,
            issued=stamped.astimezone(UTC),
            milestone_id=None if milestone is None else int(milestone),
            due=None if due is None else date.fromisoformat(due),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise LinkRefused("the link is not one this tracker made") from None


def redact(token: str) -> str:
    """A token as logs show it: a short digest, enough to match two log lines about one
    link, and nothing of the token itself (its start is the same for every link)."""
    return "…" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]
