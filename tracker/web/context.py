"""What every request shares: the settings, one database engine, the signing key, a clock.

The web app is stateless: each request gets its own :class:`~tracker.service.app.App`
(with the recipient as the actor) over the one engine, so several instances behind a
proxy on one PostgreSQL database behave as one.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.service.app import App
from tracker.web.tokens import Link, LinkRefused, Purpose, verify

#: Whether the request being served only reads (GET or HEAD: GET never changes state).
_READS_ONLY: ContextVar[bool] = ContextVar("tracker_reads_only", default=False)


class ReadsOnly:
    """Marks GET and HEAD requests as reading only, so every App made for them reads
    without taking SQLite's write lock (``App.read_only``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reading = scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
        token = _READS_ONLY.set(reading)
        try:
            await self.app(scope, receive, send)
        finally:
            _READS_ONLY.reset(token)


@dataclass
class WebContext:
    base: App  # settings, policy, engine; ``clock()`` is the server's now (``--now`` + elapsed)
    secret: str
    base_url: str

    def now(self) -> datetime:
        return self.base.clock()

    def app_for(self, actor: str | None = None) -> App:
        """An App for one request at the server's now, acting as ``actor``."""
        app = App(
            settings=self.base.settings,
            policy=self.base.policy,
            now=self.now(),
            database_url=self.base.database_url,
            by=actor,
            read_only=_READS_ONLY.get(),
        )
        app._engine = self.base.engine
        return app

    def verify(self, token: str, purposes: tuple[Purpose, ...]) -> Link:
        """The link a token stands for (LinkRefused when it cannot be used)."""
        if len(token) > 1000:
            raise LinkRefused("the link is too long to be one of ours")
        return verify(
            self.secret,
            token,
            purposes,
            now=self.now(),
            valid_days=self.base.settings.link_valid_days,
        )
