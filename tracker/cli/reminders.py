"""Commands about reminder emails: send, reminders, run, simulate, policy set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tracker.cli.common import options, parse_options, run_with_app
from tracker.cli.options import (
    flag_option,
    json_option,
    only_ref_option,
    ref_argument,
    sub_app,
    value_option,
)

policy_group = sub_app(
    "policy",
    "A contract's own reminder policy.\n\nExample: tracker policy set LANCS-DRIVE extension_notice --leads 120,60,30 --escalate-from 30 --nag-days 7",
)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("reminders")(reminders)
    app.command("run")(run)
    app.command("simulate")(simulate)
    app.add_typer(policy_group)


def _when(moment: Any) -> str:
    from tracker.domain.dates import format_london_time

    return format_london_time(moment)


def send(
    ctx: typer.Context,
    dry_run: bool = flag_option("--dry-run", "List what is due now; send and change nothing."),
) -> None:
    """Run one sweep: send every reminder due now, once (the outbox folder when no SMTP host is set).

    Example: tracker send --dry-run

    Example: tracker --now "2024-09-02 09:00" send
    """
    from tracker.cli.output import console
    from tracker.service.reminders.send import SendResult, preview, sweep

    out = console()
    if dry_run:
        items = run_with_app(ctx, preview)
        for item in items:
            out.print(
                f"would send  {item.reminder.recipient}  ({item.reminder.role})  {item.subject}"
            )
        out.print(f"{len(items)} messages due; nothing sent (--dry-run).")
        return

    def line(result: SendResult) -> None:
        # Plain output, no markup: a server's reply or a ref may hold "[...]", and
        # print()'s markup and highlighting cost more than the line's SMTP round trip.
        out.out(
            f"{result.status:<8} {result.reminder.recipient}  {result.email.ref} {result.email.kind}  {result.reply}",
            highlight=False,
        )

    async def _sweep(app: Any) -> Any:
        from tracker.mail.transport import make_transport

        # Each result is printed as it comes; keeping them all would grow with the backlog.
        return await sweep(app, make_transport(app.settings), on_result=line, keep_results=False)

    report = run_with_app(ctx, _sweep)
    out.print(f"Sweep done: {report.summary()}.")


def reminders(
    ctx: typer.Context,
    due: bool = flag_option("--due", "Planned reminders whose time has come."),
    failed: bool = flag_option("--failed", "Reminders that failed, with the server's reply."),
    sent: bool = flag_option("--sent", "Every reminder sent (the audit trail)."),
    json: bool = json_option(),
) -> None:
    """List reminders: planned (default), due, failed, or the history of what was sent.

    Example: tracker reminders --sent --json
    """
    from tracker.cli.output import console, print_json
    from tracker.domain.dates import format_uk_padded
    from tracker.errors import InvalidValue
    from tracker.mail.model import Outcome
    from tracker.service.views.reminders import Listing, attempt_history, list_reminders

    flags = ((Listing.DUE, due), (Listing.FAILED, failed), (Listing.SENT, sent))
    chosen = [listing for listing, flag in flags if flag]
    if len(chosen) > 1:
        raise InvalidValue(f"--{chosen[1]}", "", "give one of --due, --failed, --sent")
    out = console()
    if sent:
        history = run_with_app(ctx, lambda app: attempt_history(app, outcome=Outcome.SENT))
        if json:
            print_json(history)
            return
        for h in history:
            out.print(
                f"{_when(h.at)}  {h.ref}  {h.kind} (due {format_uk_padded(h.milestone_due)}, lead {h.lead})  to {h.recipient}  {h.reply}"
            )
        out.print(f"{len(history)} sent.")
        return
    listing = chosen[0] if chosen else Listing.PLANNED
    rows = run_with_app(ctx, lambda app: list_reminders(app, listing))
    if json:
        print_json(rows)
        return
    for r in rows:
        tail = f"  {r.last_reply}" if r.last_reply and listing is Listing.FAILED else ""
        out.print(
            f"{_when(r.send_at)}  {r.ref}  {r.kind} (due {format_uk_padded(r.milestone_due)}, lead {r.lead})  to {r.recipient} [{r.role}]  {r.status}{tail}"
        )
    out.print(f"{len(rows)} {listing.value}.")


def run(
    ctx: typer.Context,
    log_format: str = typer.Option("text", "--log-format", help="text or json log lines."),
) -> None:
    """Run the scheduler: sweep every minute (and at start, to catch up) until stopped.

    Several instances may share one PostgreSQL database: each reminder is claimed in
    the database before it is sent, so none goes twice. SIGTERM finishes the message
    in flight and exits.

    Example: tracker --db postgresql+asyncpg://tracker@db/tracker run --log-format json
    """
    import asyncio

    from tracker.cli.logs import setup_logging
    from tracker.errors import InvalidValue
    from tracker.jobs.scheduler import Runner  # type: ignore[import-not-found,unused-ignore]
    from tracker.service.app import make_app

    if log_format not in ("text", "json"):
        raise InvalidValue("--log-format", log_format, "is not one of: text, json")
    setup_logging(log_format)
    opts = options(ctx)
    if opts.now:
        raise InvalidValue(
            "--now", opts.now, "cannot be used with run (use simulate to replay time)"
        )
    # Fail fast, with one clear line, when the database cannot be reached at start.
    run_with_app(ctx, _noop)
    probe = make_app(db=opts.db, config=opts.config)
    runner = Runner(lambda now: make_app(db=opts.db, config=opts.config, now=now))
    asyncio.run(runner.run(probe.settings.sweep_interval_seconds))


async def _noop(app: Any) -> None:
    return None


def simulate(
    ctx: typer.Context,
    start: str = value_option("--from", "DATE", "First day to replay.", required=True),
    end: str = value_option("--to", "DATE", "Last day to replay.", required=True),
    ref: str | None = only_ref_option(None),
    policy: Path | None = value_option(
        "--policy", "FILE", "Try this policy (TOML, like config/policy.toml)."
    ),
    json: bool = json_option(),
) -> None:
    """Replay the calendar day by day and list every email that would go out; changes nothing.

    Who would have been told what, and when? Runs the real sweep at 09:00 each day on
    a throwaway copy of the database.

    Example: tracker simulate --from 1/1/2024 --to 31/3/2025 --ref LANCS-DRIVE
    """
    from tracker.cli.output import console, print_json
    from tracker.domain.dates import format_uk_padded, parse_date
    from tracker.service.reminders.simulate import simulate as replay

    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    emails = run_with_app(
        ctx,
        lambda app: replay(app, start=first, end=last, ref=ref, policy_file=policy),
        policy_file=policy,
    )
    if json:
        print_json(emails)
        return
    out = console()
    for e in emails:
        out.print(f"{_when(e.send_at)}  to {e.recipient} [{e.role}]  {e.subject}")
    out.print(
        f"{len(emails)} emails from {format_uk_padded(first)} to {format_uk_padded(last)}; nothing was sent or changed."
    )


@policy_group.command("set")
def policy_set(
    ctx: typer.Context,
    ref: str = ref_argument(),
    kind: str = typer.Argument(..., help="Milestone kind, e.g. extension_notice."),
    leads: str | None = value_option(
        "--leads", "DAYS", "Lead days, e.g. 120,60,30 (empty for none)."
    ),
    escalate_from: str | None = value_option(
        "--escalate-from", "DAYS", "Copy the sponsor from this lead on."
    ),
    nag_days: str | None = value_option(
        "--nag-days", "N", "Nag every N days while overdue (0: never)."
    ),
    max_nags: str | None = value_option(
        "--max-nags", "N", "At most N nags; the last one escalates to the sponsor."
    ),
) -> None:
    """Set a contract's own reminder policy for one milestone kind; reminders are re-planned.

    Example: tracker policy set LANCS-DRIVE extension_notice --leads 120,60,30 --escalate-from 30 --nag-days 7 --max-nags 4
    """
    from tracker.service.contracts import set_policy
    from tracker.service.registers.inputs import parse_policy_entry

    values = {
        "leads": leads,
        "escalate_from": escalate_from,
        "nag_days": nag_days,
        "max_nags": max_nags,
    }
    entry = parse_options(
        lambda raw: parse_policy_entry(kind, raw, "KIND"),
        values,
        names={"KIND": "KIND"},
        prefix="KIND.",
    )
    typer.echo(run_with_app(ctx, lambda app: set_policy(app, ref, entry)))
