"""``tracker funding add|set|remove`` and ``tracker cost add|set|remove``: the money lines
behind the gaps."""

from __future__ import annotations

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import (
    amount_option,
    note_option,
    ref_argument,
    sub_app,
    value_option,
    year_option,
)

funding_group = sub_app(
    "funding",
    "Funding lines (what pays for each financial year).\n\nExample: tracker funding add LANCS-DRIVE --source 'Home Office' --year 2024/25 --amount 399543 --status confirmed",
)
cost_group = sub_app(
    "cost",
    "Cost lines (what each financial year costs).\n\nExample: tracker cost add LANCS-DRIVE --year 2025/26 --amount 171790 --category Payroll",
)


@funding_group.command("add")
def funding_add(
    ctx: typer.Context,
    ref: str = ref_argument(),
    source: str = typer.Option(..., "--source", help="Who pays, e.g. 'Home Office'."),
    year: str = year_option(),
    amount: str = amount_option("GBP, e.g. 150000 or £150,000.00."),
    status: str = typer.Option(
        "expected", "--status", help="expected, pledged, confirmed, received or withdrawn."
    ),
    confirm_by: str | None = value_option(
        "--confirm-by", "DATE", "Date by which it must be confirmed."
    ),
) -> None:
    """Add a funding line; gaps and funding-confirmation milestones are recomputed.

    Example: tracker funding add LANCS-DRIVE --source "Partner contributions" --year 2025/26 --amount 50000 --status pledged --confirm-by 31/1/2025
    """
    from tracker.service.contracts import add_funding
    from tracker.service.registers.inputs import parse_funding

    values: dict[str, str | None] = {"source": source, "year": year, "amount": amount}
    values |= {"status": status, "confirm_by": confirm_by}
    line = parse_options(lambda raw: parse_funding(raw, ""), values)
    typer.echo("Added " + run_with_app(ctx, lambda app: add_funding(app, ref, line)))


@cost_group.command("add")
def cost_add(
    ctx: typer.Context,
    ref: str = ref_argument(),
    year: str = year_option(),
    amount: str = amount_option("GBP, e.g. 32663.22."),
    category: str | None = typer.Option(None, "--category", help="e.g. Payroll, Venue hire."),
) -> None:
    """Add a cost line; gaps and funding-confirmation milestones are recomputed.

    Example: tracker cost add LANCS-DRIVE --year 2025/26 --amount 32663.22 --category "Central support"
    """
    from tracker.service.contracts import add_cost
    from tracker.service.registers.inputs import parse_cost

    values = {"year": year, "amount": amount, "category": category}
    cost = parse_options(lambda raw: parse_cost(raw, ""), values)
    typer.echo("Added " + run_with_app(ctx, lambda app: add_cost(app, ref, cost)))


_LINE_ID = "The line's id as `tracker show` lists it (F3 for funding, C7 for cost)."


def line_argument() -> str:
    """``ID``: a funding or cost line's short id (``F3``, ``C7``)."""
    result: str = typer.Argument(..., metavar="ID", help=_LINE_ID)
    return result


@funding_group.command("set")
def funding_set(
    ctx: typer.Context,
    ref: str = ref_argument(),
    line_id: str = line_argument(),
    status: str | None = value_option(
        "--status", "STATUS", "expected, pledged, confirmed, received or withdrawn."
    ),
    amount: str | None = value_option("--amount", "AMOUNT", "The new amount in GBP."),
    confirm_by: str | None = value_option(
        "--confirm-by", "DATE", "Date by which it must be confirmed."
    ),
    note: str | None = note_option("Why (e.g. 'Home Office letter of 14/1/2025')."),
) -> None:
    """Change a funding line in place: confirming it closes its gap and the
    funding-confirmation milestones it satisfied, and their reminders stop.

    Example: tracker funding set LANCS-DRIVE F3 --status confirmed --note "Home Office letter"
    """
    from tracker.service.lines import parse_funding_change, set_funding

    values = {"status": status, "amount": amount, "confirm_by": confirm_by, "note": note}
    change = parse_options(parse_funding_change, values)
    typer.echo("Changed " + run_with_app(ctx, lambda app: set_funding(app, ref, line_id, change)))


@cost_group.command("set")
def cost_set(
    ctx: typer.Context,
    ref: str = ref_argument(),
    line_id: str = line_argument(),
    amount: str | None = value_option("--amount", "AMOUNT", "The new amount in GBP."),
    category: str | None = value_option("--category", "TEXT", "e.g. Payroll, Venue hire."),
    year: str | None = value_option("--year", "YEAR", "Financial year: 2025/26 or 25/26."),
) -> None:
    """Change a cost line in place; gaps and funding-confirmation milestones follow.

    Example: tracker cost set LANCS-DRIVE C7 --amount 180000
    """
    from tracker.service.lines import parse_cost_change, set_cost

    values = {"amount": amount, "category": category, "year": year}
    change = parse_options(parse_cost_change, values)
    typer.echo("Changed " + run_with_app(ctx, lambda app: set_cost(app, ref, line_id, change)))


def _remove_command(group: typer.Typer, kind: str, example_id: str) -> None:
    """``funding remove`` and ``cost remove``: one command, declared once for both groups."""

    def remove(
        ctx: typer.Context, ref: str = ref_argument(), line_id: str = line_argument()
    ) -> None:
        from tracker.service import lines as service

        call = service.remove_funding if kind == "funding" else service.remove_cost
        typer.echo("Removed " + run_with_app(ctx, lambda app: call(app, ref, line_id)))

    remove.__doc__ = f"""Take a {kind} line out of the gaps; it stays in the contract's history.

    Example: tracker {kind} remove LANCS-DRIVE {example_id}
    """
    group.command("remove")(remove)


_remove_command(funding_group, "funding", "F3")
_remove_command(cost_group, "cost", "C7")
