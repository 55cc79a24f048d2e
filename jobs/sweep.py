"""The scheduled jobs: the reminder sweep and the digests, each logging one line per send."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tracker.mail.transport import make_transport
from tracker.service.app import App
from tracker.service.digest.send import DigestReport, DigestResult, send_digests
from tracker.service.reminders.send import SendResult, SweepReport, sweep

log = logging.getLogger("tracker.sweep")


def log_result(result: SendResult) -> None:
    """One log line per send: what, to whom, the outcome and the server's reply."""
    r = result.reminder
    log.info(
        "%s %s %s lead=%s to=%s message_id=%s reply=%s",
        result.status,
        result.email.ref,
        result.email.kind,
        r.lead,
        r.recipient,
        r.message_id,
        result.reply,
    )


def log_digest(result: DigestResult) -> None:
    log.info(
        "digest %s to=%s period=%s reply=%s",
        result.status,
        result.recipient,
        result.period,
        result.reply,
    )


async def digest_job(app: App, *, instance: str, should_stop: Callable[[], bool]) -> DigestReport:
    """Digests due now (Monday 08:00 London by default), each person once per period."""
    report = await send_digests(
        app,
        make_transport(app.settings),
        instance=instance,
        on_result=log_digest,
        should_stop=should_stop,
    )
    if report.results:
        log.info("digests done: %s", report.summary())
    return report


async def sweep_job(app: App, *, instance: str, should_stop: Callable[[], bool]) -> SweepReport:
    report = await sweep(
        app,
        make_transport(app.settings),
        instance=instance,
        on_result=log_result,
        should_stop=should_stop,
    )
    if report.results or report.nags_planned:
        log.info("sweep done: %s", report.summary())
    return report
