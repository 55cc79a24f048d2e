"""``tracker decision add``: decision records and their publication deadline."""

from __future__ import annotations

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import ref_argument, sub_app, value_option

group = sub_app(
    "decision",
    "Decision records about a contract.\n\nExample: tracker decision add LANCS-DRIVE --id 20/2024 --date 2/9/2024 --url https://example.org/decisions/20-2024",
)


@group.command("add")
def add(
    ctx: typer.Context,
    ref: str = ref_argument(),
    decision_id: str = typer.Option(..., "--id", help="The decision's number, e.g. 20/2024."),
    date: str = value_option("--date", "DATE", "The day it was approved.", required=True),
    url: str | None = typer.Option(None, "--url", help="Where the record is published."),
    title: str | None = typer.Option(None, "--title", help="What was decided."),
    publish_within: str = typer.Option(
        "3",
        "--publish-within-working-days",
        metavar="N",
        help="Working days allowed to publish it.",
    ),
) -> None:
    """Record a decision; its publication milestone is due N working days later.

    Working days exclude weekends and England and Wales bank holidays: a decision on
    Thursday 22 Dec 2022 with 3 days is due published by Thursday 29 Dec 2022.

    Example: tracker decision add LANCS-DRIVE --id 20/2024 --date 2/9/2024 --url https://example.org/decisions/20-2024
    """
    from tracker.service.contracts import add_decision
    from tracker.service.registers.inputs import parse_decision

    values = {"id": decision_id, "date": date, "url": url, "title": title}
    values["publish_within_working_days"] = publish_within
    decision = parse_options(lambda raw: parse_decision(raw, ""), values)
    typer.echo(run_with_app(ctx, lambda app: add_decision(app, ref, decision)))
