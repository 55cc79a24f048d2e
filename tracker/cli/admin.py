"""``tracker init`` and ``tracker demo``: setting up a database, and showing what the tracker does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tracker.cli.common import options, run_with_app
from tracker.cli.options import json_option

if TYPE_CHECKING:  # imported when the command runs: --help stays fast
    from tracker.service.views.status import Status


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)
    app.command("status")(status)


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (safe to run again at any time).

    Example: tracker --db postgresql+asyncpg://tracker@db.internal/tracker init
    """
    from tracker.service.app import App
    from tracker.service.contracts import refresh_all
    from tracker.store.engine import redact
    from tracker.store.schema import upgrade

    async def _init(app: App) -> str:
        before, after = await upgrade(app.engine)
        where = redact(app.database_url)
        if before is None:
            return f"Created the database schema at revision {after} in {where}."
        if before == after:
            return f"Database {where} is up to date (revision {after})."
        # Contracts stored by the older version get today's milestones and reminders.
        count = await refresh_all(app)
        plural = "contract" if count == 1 else "contracts"
        return (
            f"Upgraded database {where} from revision {before} to {after}; "
            f"re-planned {count} {plural}."
        )

    typer.echo(run_with_app(ctx, _init, check_schema=False))


def demo(ctx: typer.Context) -> None:
    """Load the two seed contracts into a throwaway database and show what a manager sees.

    West Mercia's Drive pilot (2018) and Lancashire's Drive contract (2024), with
    their real dates, sums and funders, each shown as of its record's own date
    (24 Oct 2018 and 2 Sep 2024) unless --now is given.

    Example: tracker demo

    Example: tracker --now 2025-02-01 demo
    """
    from tracker.cli.demo import run_demo

    run_demo(options(ctx))


def status(
    ctx: typer.Context,
    json: bool = json_option("JSON for monitoring."),
) -> None:
    """Schema version, running instances (heartbeats), and reminders and digests by state.

    Exits 1 when the schema is not current, so a monitor can alert on it.

    Example: tracker status --json
    """
    from tracker.cli.output import print_json
    from tracker.service.views.status import status as gather

    info = run_with_app(ctx, gather, check_schema=False)
    if json:
        print_json(info)
    else:
        _print_status(info)
    if not info.schema_current:
        raise typer.Exit(1)


def _print_status(info: Status) -> None:
    from rich.table import Table

    from tracker.cli.output import console

    out = console()
    schema = (
        "current"
        if info.schema_current
        else f"OUT OF DATE (head is {info.schema_head}): run tracker init"
    )
    out.print(f"Database: {info.database}")
    out.print(f"Schema:   revision {info.schema_revision or 'none'} ({schema})")
    table = Table(title="Instances", title_justify="left")
    for column in (
        "Instance",
        "State",
        "Version",
        "Started",
        "Last seen",
        "Last sweep",
        "Last error",
    ):
        table.add_column(column, overflow="fold")

    def when(moment: object) -> str:
        from datetime import datetime

        from tracker.domain.dates import format_london_day_time

        return format_london_day_time(moment) if isinstance(moment, datetime) else "-"

    for i in info.instances:
        table.add_row(
            i.name,
            i.state,
            i.version,
            when(i.started_at),
            when(i.last_seen),
            when(i.last_sweep),
            i.last_error or "",
        )
    out.print(table if info.instances else "Instances: none has run yet")
    for label, counts in (("Reminders", info.reminders), ("Digests", info.digests)):
        out.print(
            f"{label + ':':<10} {counts.pending} pending, {counts.due} due, {counts.retrying} retrying, "
            f"{counts.sending} sending, {counts.failed} failed, {counts.sent} sent"
        )
