"""The links an email carries ("Mark done", "Snooze", "Open in the browser", "Digest
settings"), when there are any.

Links need a public address (TRACKER_BASE_URL) and a key to sign them with
(TRACKER_SECRET_KEY). Without an address an email has no links and reads exactly as
it did before the web app existed; an address without a key is a mistake an operator
must hear about, not a silent email without links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from tracker.domain.types import FACT_KINDS, MilestoneKind
from tracker.errors import ConfigError
from tracker.settings import Settings
from tracker.web.tokens import Link, Purpose, issue

MAKE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


@dataclass(frozen=True)
class ActionLinks:
    done: str
    snooze: str


class Links:
    """Signed URLs for one email's moment (``issued``); built once per batch."""

    def __init__(self, base_url: str, secret: str, issued: datetime) -> None:
        self.base_url = base_url
        self._secret = secret
        self.issued = issued

    def actions(
        self, recipient: str, milestone_id: int, kind: MilestoneKind, due: date
    ) -> ActionLinks | None:
        """Mark done and Snooze for a milestone; none for a dated fact (nothing to decide)."""
        if kind in FACT_KINDS:
            return None

        def url(purpose: Purpose) -> str:
            link = Link(purpose, recipient, self.issued, milestone_id=milestone_id, due=due)
            return f"{self.base_url}/act/{issue(self._secret, link)}"

        return ActionLinks(done=url(Purpose.DONE), snooze=url(Purpose.SNOOZE))

    def contract_page(self, ref: str) -> str:
        """The contract's page in the web app ("Open in the browser"): no token, the page
        asks a person without a session to sign in, then goes on to it."""
        return f"{self.base_url}/contracts/{quote(ref, safe='')}"

    def digest_settings(self, recipient: str) -> str:
        token = issue(self._secret, Link(Purpose.DIGEST, recipient, self.issued))
        return f"{self.base_url}/digest/{token}"


def email_links(settings: Settings, issued: datetime) -> Links | None:
    """The links of emails made at ``issued``, or None when no public address is set."""
    if not settings.base_url:
        return None
    return Links(settings.base_url, secret_key(settings), issued)


def secret_key(settings: Settings) -> str:
    """The signing key, or a ConfigError that says how to make one (never the key itself)."""
    key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if len(key) < 16:
        raise ConfigError(
            "TRACKER_SECRET_KEY is not set (or shorter than 16 characters): the links in "
            f"emails are signed with it; make one with: {MAKE_KEY}"
        )
    return key
