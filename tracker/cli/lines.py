"""``tracker funding add`` and ``tracker cost add``: the money lines behind the gaps."""

from __future__ import annotations

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import amount_option, ref_argument, sub_app, value_option, year_option

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
