"""``tracker run``: APScheduler 3 as the in-process timer; the database is the record.

The scheduler only says "now is a good time to sweep". Whether anything is due, and
whether it was already sent (by this or another instance), is decided by the rows in
the database, so a restart, a missed tick or a second instance changes nothing about
what is sent. SIGINT/SIGTERM: the message in flight is finished and recorded, the rest
is given back, and the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tracker.errors import TrackerError
from tracker.service.app import App
from tracker.service.reminders.send import instance_name
from tracker.service.views.status import beat

from .sweep import digest_job, sweep_job

log = logging.getLogger("tracker.run")


class Runner:
    """One tracker instance: sweeps and digests every interval (and at start, to catch up)."""

    def __init__(self, make_app: Callable[[datetime], App]) -> None:
        self.make_app = make_app
        self.instance = instance_name()
        self.stopping = asyncio.Event()
        self.busy = asyncio.Lock()
        self.started_at = datetime.now(UTC)

    def stop_requested(self) -> bool:
        return self.stopping.is_set()

    async def tick(self) -> None:
        """One sweep at the current time; errors are logged, never fatal (no crash loop)."""
        if self.stopping.is_set() or self.busy.locked():
            return
        async with self.busy:
            app = self.make_app(datetime.now(UTC))
            error: str | None = None
            try:
                await app.open()
                await beat(app, self.instance, self.started_at)
                await sweep_job(app, instance=self.instance, should_stop=self.stop_requested)
                await digest_job(app, instance=self.instance, should_stop=self.stop_requested)
            except TrackerError as exc:
                error = str(exc)
                log.error("sweep failed: %s", exc)
            except Exception as exc:  # keep the scheduler alive; the next tick retries
                error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                log.exception("sweep failed unexpectedly")
            await self._record(app, error)

    async def _record(self, app: App, error: str | None, *, stopped: bool = False) -> None:
        """Heartbeat after the tick; a database that is down now is logged, not fatal."""
        try:
            done = error is None and not stopped
            await beat(
                app,
                self.instance,
                self.started_at,
                swept=done,
                digested=done,
                error=error,
                stopped=stopped,
            )
        except Exception as exc:  # the database may be the thing that failed
            log.warning("could not record the heartbeat: %s", str(exc).splitlines()[0])
        finally:
            await app.close()

    async def run(self, interval_seconds: int) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=interval_seconds),
            next_run_time=datetime.now(UTC),  # catch up at once on start
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="sweep",
        )
        scheduler.start()
        log.info("tracker run started as %s; sweeping every %ss", self.instance, interval_seconds)
        await self.stopping.wait()
        # Let a sweep in flight finish its message and give back the rest BEFORE the
        # scheduler shuts down: APScheduler cancels running jobs on shutdown, and a
        # cancellation between the server's acceptance and our record would resend it.
        async with self.busy:
            scheduler.shutdown(wait=False)
            await self._record(self.make_app(datetime.now(UTC)), None, stopped=True)
        log.info("tracker run stopped")

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s: finishing the message in flight, then stopping", sig.name)
        self.stopping.set()
