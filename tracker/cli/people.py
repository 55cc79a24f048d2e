"""``tracker handover``: when a person leaves, their contracts move to someone else."""

from __future__ import annotations

from typing import Any

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import value_option


def register(app: typer.Typer) -> None:
    app.command("handover")(handover)


def _people(raw: dict[str, Any]) -> tuple[str, str]:
    """Both addresses by the one email rule (``--from`` and ``--to`` in errors)."""
    from tracker.domain.emails import parse_email

    return parse_email(raw.get("from"), "from"), parse_email(raw.get("to"), "to")


def handover(
    ctx: typer.Context,
    old: str = value_option("--from", "EMAIL", "The person leaving.", required=True),
    new: str = value_option("--to", "EMAIL", "Who takes their contracts over.", required=True),
    refs: list[str] | None = typer.Option(
        None, "--ref", metavar="REF", help="Only this contract (repeatable); default: all."
    ),
) -> None:
    """Move ownership, sponsorship and watching of every contract of a person who
    leaves (or only the --ref ones) to another, in one change. Planned reminders go
    to the new person; what was sent stays in the history.

    Example: tracker handover --from policy.partnerships@lancashire-opcc.example.org --to new.manager@lancashire-opcc.example.org
    """
    from tracker.service.handover import handover as hand_over

    old, new = parse_options(_people, {"from": old, "to": new})
    result = run_with_app(ctx, lambda app: hand_over(app, old, new, tuple(refs or ())))
    for line in result.lines:
        typer.echo("Handed over " + line)
    typer.echo(f"{len(result.lines)} contracts handed over from {old} to {new}.")
