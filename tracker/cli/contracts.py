"""Commands about whole contracts: add, import, list, show, extend, gaps, timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import (
    LIGHT_TOUCH_HELP,
    entered_into_option,
    flag_option,
    json_option,
    ref_argument,
    regime_option,
    value_option,
)


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("import")(import_file)
    app.command("list")(list_command)
    app.command("show")(show)
    app.command("extend")(extend)
    app.command("gaps")(gaps)
    app.command("timeline")(timeline)


_START_HELP = "Start date: 2023-08-01 or 1/8/2023 (day first)."
_VALUE_HELP = "Stated contract value in GBP, e.g. 665905 or £665,905."
_SPONSOR_HELP = "Escalation contact's email (e.g. the CFO)."
_MONTHS_HELP = "Average programme length, for the last-referral date."
_ALL_HELP = "Include contracts that have ended with nothing left open."


def add(
    ctx: typer.Context,
    ref: str = ref_argument("Unique reference, e.g. PCC/D/2018/25."),
    title: str = typer.Option(..., "--title", help="What the contract provides."),
    provider: str = typer.Option(..., "--provider", help="The organisation delivering it."),
    start: str = value_option("--start", "DATE", _START_HELP, required=True),
    end: str = value_option("--end", "DATE", "End date of the current term.", required=True),
    commissioner: str | None = typer.Option(None, "--commissioner", help="The commissioning body."),
    value: str | None = value_option("--value", "AMOUNT", _VALUE_HELP),
    owner: str | None = value_option("--owner", "EMAIL", "Commissioning manager's email."),
    sponsor: str | None = value_option("--sponsor", "EMAIL", _SPONSOR_HELP),
    watcher: list[str] | None = typer.Option(
        None, "--watcher", metavar="EMAIL", help="Someone else to keep informed (repeatable)."
    ),
    extension_until: str | None = value_option(
        "--extension-until", "DATE", "An extension option to this date."
    ),
    extension_notice_days: str | None = value_option(
        "--extension-notice-days", "N", "Notice needed, in days before the end."
    ),
    extension_notice_by: str | None = value_option(
        "--extension-notice-by", "DATE", "Or: the date notice must be given by."
    ),
    intervention_months: str | None = value_option("--intervention-months", "N", _MONTHS_HELP),
    notes: str | None = typer.Option(None, "--notes", help="Free text."),
    regime: str | None = regime_option(),
    light_touch: bool = flag_option("--light-touch", LIGHT_TOUCH_HELP),
    entered_into: str | None = entered_into_option(),
) -> None:
    """Add a contract and derive its milestones.

    Under the Procurement Act 2023 (--regime pa2023 --entered-into DATE) its notices are
    derived too.

    Example: tracker add LANCS-DRIVE --title "Drive programme" --provider "Victim Support" --start 1/8/2023 --end 31/3/2025 --value 665905 --owner commissioning@example.org --extension-until 31/3/2026 --extension-notice-by 30/9/2024 --intervention-months 12

    Example: tracker add ACT-1 --title "Advocacy" --provider "Safe Lives" --start 1/4/2025 --end 31/3/2028 --regime pa2023 --light-touch --entered-into 3/3/2025
    """
    from tracker.service.contracts import add_contracts
    from tracker.service.registers.inputs import parse_contract

    values: dict[str, Any] = {"ref": ref, "title": title, "provider": provider}
    values |= {"start": start, "end": end, "commissioner": commissioner, "value": value}
    values |= {"owner": owner, "sponsor": sponsor, "watchers": list(watcher or [])}
    values |= {"intervention_months": intervention_months, "notes": notes}
    values |= {"regime": regime, "light_touch": light_touch, "entered_into": entered_into}
    option = {"until": extension_until, "notice_days": extension_notice_days}
    option["notice_by"] = extension_notice_by
    if any(v is not None for v in option.values()):
        values["extensions"] = [{k: v for k, v in option.items() if v is not None}]
    contract = parse_options(parse_contract, values, names=_OPTION_NAMES)
    result = run_with_app(ctx, lambda app: add_contracts(app, [contract]))
    typer.echo(f"Added {contract.ref}: {result.milestones} milestones.")
    typer.echo(f"See it with: tracker show {_quote(contract.ref)}")


#: Parser fields named otherwise on the command line (the rest are ``--field-name``).
_OPTION_NAMES = {
    "ref": "ref",
    "watchers": "--watcher",
    "extensions[0].until": "--extension-until",
    "extensions[0].notice_days": "--extension-notice-days",
    "extensions[0].notice_by": "--extension-notice-by",
}


def _quote(ref: str) -> str:
    import shlex

    return shlex.quote(ref)


def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="YAML file with a 'contracts:' list, or a .csv register.", dir_okay=False
    ),
    dry_run: bool = flag_option("--dry-run", "Check and show what would be added; write nothing."),
    update: bool = flag_option(
        "--update", "Update contracts whose ref exists (only the fields the file gives)."
    ),
    json: bool = json_option(),
) -> None:
    """Import contracts from a YAML file (full detail) or a CSV contract register, all or nothing.

    Every contract is checked before anything is written; one bad value in any
    contract stops the whole import with the file, line and field named. A CSV is a
    register as exported by `tracker export register` or saved by a spreadsheet
    (headers such as Reference, Title, Supplier, Start Date, End Date, Value).
    With --update, contracts whose ref exists are updated (fields the file leaves out
    stay as they are) and the others added; --dry-run --update shows each change.

    Example: tracker import contracts.yaml --dry-run

    Example: tracker import register.csv --update --dry-run
    """
    from tracker.cli.importing import cycle_collector_paused, print_summary, progress_bar
    from tracker.service.registers.read import read_records
    from tracker.service.registers.update import import_update

    with cycle_collector_paused():
        records = read_records(file)
        with progress_bar(len(records), quiet=json) as tick:
            result = run_with_app(
                ctx,
                lambda app: import_update(
                    app, records, source=file.name, update=update, dry_run=dry_run, progress=tick
                ),
            )
    print_summary(result, json=json)


def list_command(
    ctx: typer.Context,
    ending_within: int | None = typer.Option(
        None,
        "--ending-within",
        metavar="DAYS",
        min=0,
        max=36_500,
        help="Only contracts ending within this many days.",
    ),
    all_: bool = flag_option("--all", _ALL_HELP),
    json: bool = json_option(),
) -> None:
    """List contracts with their next decision, staffing risk and funding gap.

    Example: tracker list --ending-within 365
    """
    from tracker.cli.output import console, print_json
    from tracker.cli.render import contracts_table
    from tracker.service.views.contracts import list_contracts

    summaries = run_with_app(
        ctx, lambda app: list_contracts(app, ending_within=ending_within, include_ended=all_)
    )
    if json:
        print_json([_summary_json(s) for s in summaries])
        return
    out = console()
    if not summaries:
        out.print(
            "No contracts."
            if ending_within is None
            else f"No contracts end within {ending_within} days."
        )
        return
    out.print(contracts_table(summaries))


def _summary_json(summary: Any) -> dict[str, Any]:
    from tracker.cli.output import plain

    data: dict[str, Any] = plain(summary)
    data["staffing_risk"] = data.pop("staffing")
    data["total_gap"] = plain(summary.total_gap)
    data["total_at_risk"] = plain(summary.total_at_risk)
    data["ended"] = summary.ended
    for gap in data["gaps"]:
        gap["cost_unknown"] = gap["cost"] is None
    return data


def show(
    ctx: typer.Context,
    ref: str = ref_argument(),
    json: bool = json_option(),
) -> None:
    """Show one contract: milestones, staffing risk, funding gaps and recent changes.

    Example: tracker show LANCS-DRIVE
    """
    from tracker.cli.output import console, plain, print_json
    from tracker.cli.render import print_detail
    from tracker.service.views.contracts import contract_detail

    detail = run_with_app(ctx, lambda app: contract_detail(app, ref))
    if json:
        data = plain(detail)
        data["summary"] = _summary_json(detail.summary)
        print_json(data)
        return
    print_detail(console(), detail)


def extend(
    ctx: typer.Context,
    ref: str = ref_argument(),
    decline: bool = flag_option("--decline", "Decline the option instead (plan the exit)."),
) -> None:
    """Activate the next extension option (moves the end date and re-derives milestones).

    Example: tracker extend LANCS-DRIVE
    """
    from tracker.service.contracts import extend as extend_contract

    summary = run_with_app(ctx, lambda app: extend_contract(app, ref, decline=decline))
    typer.echo(summary)


def gaps(
    ctx: typer.Context,
    ref: str | None = typer.Argument(None, help="One contract's ref (default: all)."),
    json: bool = json_option(),
) -> None:
    """Funding gap per contract and financial year: cost less confirmed and received funding.

    Expected and pledged funding is shown as at risk, never as secured; a year with
    no cost lines is "cost unknown", not a zero gap.

    Example: tracker gaps LANCS-DRIVE --json
    """
    from tracker.cli.output import console, plain, print_json
    from tracker.cli.render import gaps_table, print_warnings
    from tracker.service.views.contracts import gaps as gather

    summaries = run_with_app(ctx, lambda app: gather(app, ref))
    if json:
        rows = []
        for s in summaries:
            years = plain(list(s.gaps))
            for year in years:
                year["cost_unknown"] = year["cost"] is None
            rows.append(
                {
                    "ref": s.ref,
                    "years": years,
                    "total_gap": plain(s.total_gap),
                    "total_at_risk": plain(s.total_at_risk),
                    "warnings": list(s.warnings),
                }
            )
        print_json(rows)
        return
    out = console()
    out.print(gaps_table(summaries))
    print_warnings(out, summaries)


def timeline(
    ctx: typer.Context,
    days: int = typer.Option(
        90, "--days", min=0, metavar="N", help="How far ahead to look (overdue ones always show)."
    ),
    all_: bool = flag_option("--all", _ALL_HELP),
    json: bool = json_option(),
) -> None:
    """Open decisions and dates across all contracts, overdue first, then by due date.

    Example: tracker timeline --days 180
    """
    from tracker.cli.output import console, print_json
    from tracker.cli.render import milestones_table
    from tracker.service.views.contracts import timeline as gather

    items = run_with_app(ctx, lambda app: gather(app, days=days, include_ended=all_))
    if json:
        print_json(items)
        return
    out = console()
    if not items:
        out.print(f"Nothing open in the next {days} days.")
        return
    out.print(milestones_table(items, title=f"Timeline: the next {days} days", with_ref=True))
