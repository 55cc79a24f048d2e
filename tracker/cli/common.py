"""What every command shares: global options, reading options through the input parser,
and running one use case against the app."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer

T = TypeVar("T")


@dataclass(frozen=True)
class GlobalOptions:
    db: str | None
    config: Path | None
    now: str | None
    #: ``--by``: who makes the command's changes (else TRACKER_ACTOR, else the OS user).
    by: str | None = None


def options(ctx: typer.Context) -> GlobalOptions:
    found = ctx.find_root().obj
    return found if isinstance(found, GlobalOptions) else GlobalOptions(None, None, None)


def parse_options(
    parse: Callable[[dict[str, Any]], T],
    values: Mapping[str, object],
    *,
    names: Mapping[str, str] | None = None,
    prefix: str = "",
) -> T:
    """Check a command's options with the import parser, the one home of every input rule.

    ``values`` maps parser fields to what the user typed (options not given are None
    and left out). A parser error comes back naming the option the user typed instead
    of the parser's field: ``publish_within_working_days`` is ``--publish-within-working-days``
    unless ``names`` says otherwise (``{"due": "DATE"}``; a key also covers its list items,
    ``watchers`` names ``watchers[2]``). ``prefix`` is the parser's record name to strip.
    """
    from tracker.errors import InvalidValue

    raw = {key: value for key, value in values.items() if value is not None}
    try:
        return parse(raw)
    except InvalidValue as exc:
        given = names or {}
        field = option_name(exc.field.removeprefix(prefix), given)
        raise InvalidValue(field, exc.value, _renamed(exc.reason, given)) from None


def option_name(field: str, names: Mapping[str, str]) -> str:
    """The option (or argument) the user typed for a parser field."""
    field = field.lstrip(".")
    for key in (field, field.split("[", 1)[0]):
        if key in names:
            return names[key]
    return "--" + field.replace("_", "-")


def _renamed(reason: str, names: Mapping[str, str]) -> str:
    """A reason naming sibling fields (``needs notice_days or notice_by``) in option words:
    the last part of each dotted key of ``names`` is replaced by its option."""
    words = {key.rsplit(".", 1)[1]: name for key, name in names.items() if "." in key}
    if not words:
        return reason
    pattern = r"\b(" + "|".join(map(re.escape, words)) + r")\b"
    return re.sub(pattern, lambda match: words[match.group(1)], reason)


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
    app = make_app(db=opts.db, config=opts.config, now=now, policy_file=policy_file, by=opts.by)

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
