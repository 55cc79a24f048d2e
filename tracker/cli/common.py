"""What every command shares: global options, and running one use case against the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer

T = TypeVar("T")


@dataclass(frozen=True)
class GlobalOptions:
    db: str | None
    config: Path | None
    now: str | None


def options(ctx: typer.Context) -> GlobalOptions:
    found = ctx.find_root().obj
    return found if isinstance(found, GlobalOptions) else GlobalOptions(None, None, None)


def run_with_app(
    ctx: typer.Context,
    use_case: Callable[..., Awaitable[T]],
    *,
    check_schema: bool = True,
    policy_file: Path | None = None,
) -> T:
    """Build the app from the global options, open the database, run ``use_case(app)``.

    Imports are local so that ``tracker --help`` does not load SQLAlchemy.
    """
    from tracker.domain.dates import parse_now
    from tracker.service.app import make_app, opened

    opts = options(ctx)
    now = parse_now(opts.now) if opts.now else None
    app = make_app(db=opts.db, config=opts.config, now=now, policy_file=policy_file)

    async def _run() -> T:
        async with opened(app, check_schema=check_schema):
            return await use_case(app)

    from sqlalchemy.exc import DBAPIError

    from tracker.service.app import database_error

    try:
        return asyncio.run(_run())
    except DBAPIError as exc:
        # A read-only file, a lock held past the busy timeout, a server gone mid-command:
        # the transaction was rolled back, so nothing was written; say so in one line.
        raise database_error(app.database_url, exc) from None
