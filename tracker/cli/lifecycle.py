"""Commands that follow a contract's life: edit, vary, terminate, remove.

Each passes what was typed to the use case in ``tracker.service.lifecycle``, which checks
it with the same parsers as ``add`` against the stored contract; a parser error comes
back naming the option typed (``parse_options``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import (
    LIGHT_TOUCH_HELP,
    entered_into_option,
    note_option,
    ref_argument,
    regime_option,
    value_option,
)

if TYPE_CHECKING:  # imported when a command runs: --help stays fast
    from tracker.service.app import App


def register(app: typer.Typer) -> None:
    app.command("edit")(edit)
    app.command("vary")(vary)
    app.command("terminate")(terminate)
    app.command("remove")(remove)


def if_version_option() -> Any:
    """``--if-version``: apply only if the contract is still at the version that was read."""
    return typer.Option(
        None,
        "--if-version",
        metavar="N",
        min=1,
        help="Refuse the change if the contract is no longer at this version (see show --json).",
    )


_EMPTY = 'Give "" to clear it.'
#: Parser fields named otherwise on the command line.
_EDIT_NAMES = {"watchers": "--add-watcher", "ref": "ref"}


def edit(
    ctx: typer.Context,
    ref: str = ref_argument(),
    title: str | None = value_option("--title", "TEXT", "What the contract provides."),
    provider: str | None = value_option("--provider", "TEXT", "The organisation delivering it."),
    commissioner: str | None = value_option(
        "--commissioner", "TEXT", f"The commissioning body. {_EMPTY}"
    ),
    start: str | None = value_option("--start", "DATE", "Start date (day first)."),
    end: str | None = value_option(
        "--end", "DATE", "End date of the current term (a correction; use vary for a variation)."
    ),
    value: str | None = value_option(
        "--value", "AMOUNT", f"Stated contract value in GBP. {_EMPTY}"
    ),
    owner: str | None = value_option(
        "--owner", "EMAIL", f"Commissioning manager's email. {_EMPTY}"
    ),
    sponsor: str | None = value_option(
        "--sponsor", "EMAIL", f"Escalation contact's email. {_EMPTY}"
    ),
    add_watcher: list[str] | None = typer.Option(
        None, "--add-watcher", metavar="EMAIL", help="Someone else to keep informed (repeatable)."
    ),
    remove_watcher: list[str] | None = typer.Option(
        None, "--remove-watcher", metavar="EMAIL", help="Stop keeping them informed (repeatable)."
    ),
    intervention_months: str | None = value_option(
        "--intervention-months", "N", f"Average programme length. {_EMPTY}"
    ),
    notes: str | None = value_option("--notes", "TEXT", f"Free text. {_EMPTY}"),
    regime: str | None = regime_option(),
    light_touch: bool | None = typer.Option(
        None, "--light-touch/--not-light-touch", help=LIGHT_TOUCH_HELP
    ),
    entered_into: str | None = entered_into_option(),
    if_version: int | None = if_version_option(),
) -> None:
    """Change a contract's fields; milestones and reminders follow, the history keeps old -> new.

    Example: tracker edit LANCS-DRIVE --owner new.manager@example.org --value 700000
    """
    from tracker.service.lifecycle import edit_contract

    values: dict[str, Any] = {"title": title, "provider": provider, "commissioner": commissioner}
    values |= {"start": start, "end": end, "value": value, "owner": owner, "sponsor": sponsor}
    values |= {"intervention_months": intervention_months, "notes": notes}
    values |= {"regime": regime, "light_touch": light_touch, "entered_into": entered_into}

    def apply(changes: dict[str, Any]) -> str:
        return run_with_app(
            ctx,
            lambda app: edit_contract(
                app,
                ref,
                changes,
                add_watchers=list(add_watcher or []),
                remove_watchers=list(remove_watcher or []),
                if_version=if_version,
            ),
        )

    typer.echo(parse_options(apply, values, names=_EDIT_NAMES))


def vary(
    ctx: typer.Context,
    ref: str = ref_argument(),
    end: str | None = value_option("--end", "DATE", "The end date the variation agrees."),
    value: str | None = value_option("--value", "AMOUNT", "The contract value it agrees."),
    ref_no: str = value_option(
        "--ref-no", "TEXT", 'The variation\'s number, e.g. "Variation 2".', required=True
    ),
    date: str = value_option("--date", "DATE", "The date the variation was signed.", required=True),
    note: str | None = note_option("What the variation is for."),
    if_version: int | None = if_version_option(),
) -> None:
    """Record a formal variation that moves the end and/or value; milestones follow the end.

    Example: tracker vary LANCS-DRIVE --end 30/6/2025 --ref-no "Variation 2" --date 1/10/2024
    """
    from tracker.service.lifecycle import vary_contract
    from tracker.service.registers.inputs import parse_variation

    values = {"end": end, "value": value, "ref_no": ref_no, "date": date, "note": note}
    variation = parse_options(parse_variation, values)

    _change(ctx, lambda app: vary_contract(app, ref, variation, if_version=if_version))


def terminate(
    ctx: typer.Context,
    ref: str = ref_argument(),
    on: str = value_option("--on", "DATE", "The last day of the contract.", required=True),
    reason: str = value_option(
        "--reason", "REASON", "terminated, decommissioned or set-aside.", required=True
    ),
    note: str | None = note_option("Why, for the record."),
    if_version: int | None = if_version_option(),
) -> None:
    """End a contract early: what is open after that day is cancelled, end milestones follow.

    Example: tracker terminate LANCS-DRIVE --on 31/12/2024 --reason decommissioned --note "Service recommissioned"
    """
    from tracker.service.lifecycle import terminate_contract
    from tracker.service.registers.inputs import parse_termination

    ending = parse_options(parse_termination, {"on": on, "reason": reason, "note": note})

    _change(ctx, lambda app: terminate_contract(app, ref, ending, if_version=if_version))


def remove(
    ctx: typer.Context,
    ref: str = ref_argument(),
    yes: bool = typer.Option(False, "--yes", help="Yes, delete it and its whole history."),
) -> None:
    """Delete a contract added by mistake (only while no reminder about it was sent).

    Example: tracker remove TYPO-REF --yes
    """
    from tracker.errors import InvalidOperation
    from tracker.service.lifecycle import remove_contract

    if not yes:
        raise InvalidOperation(
            f"remove {ref}: this deletes the contract and its history; add --yes to confirm"
        )
    removed = run_with_app(ctx, lambda app: remove_contract(app, ref))
    typer.echo(f"Removed {removed.ref}: {removed.title} ({removed.milestones} milestones).")


def _change(ctx: typer.Context, call: Callable[[App], Awaitable[str]]) -> None:
    """Run a change and print what it did; a value the service refuses (an end before
    the start) is named by the option the user typed (``end`` is ``--end``)."""
    typer.echo(parse_options(lambda _: run_with_app(ctx, call), {}))
