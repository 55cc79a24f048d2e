"""``tracker init`` and ``tracker demo``: setting up a database, and showing what the tracker does."""

from __future__ import annotations

import typer

from tracker.cli.common import options, run_with_app


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (safe to run again at any time).

    Example: tracker --db postgresql+asyncpg://tracker@db.internal/tracker init
    """
    from tracker.service.app import App
    from tracker.store.engine import redact
    from tracker.store.schema import upgrade

    async def _init(app: App) -> str:
        before, after = await upgrade(app.engine)
        where = redact(app.database_url)
        if before is None:
            return f"Created the database schema at revision {after} in {where}."
        if before == after:
            return f"Database {where} is up to date (revision {after})."
        return f"Upgraded database {where} from revision {before} to {after}."

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
