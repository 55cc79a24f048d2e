"""What every request shares: the settings, one database engine, the signing key, a clock.

The web app is stateless: each request gets its own :class:`~tracker.service.app.App`
(with the recipient as the actor) over the one engine, so several instances behind a
proxy on one PostgreSQL database behave as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.service.app import App
from tracker.web.tokens import Link, LinkRefused, Purpose, verify


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
