"""Rich renderings of the read models, shared by list, show, gaps, timeline and demo."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracker.domain.dates import format_london_time, format_uk
from tracker.domain.money import format_gbp, gbp_or_unknown
from tracker.domain.types import MilestoneStatus
from tracker.domain.wording import days_phrase, regime_phrase
from tracker.service.views.contracts import ContractDetail, ContractSummary, MilestoneView


def _money(amount: object) -> str:
    from decimal import Decimal

    return format_gbp(amount) if isinstance(amount, Decimal) else "-"


def staffing_text(summary: ContractSummary) -> Text:
    style = "bold red" if summary.staffing.at_risk else ""
    return Text(summary.staffing.summary, style=style)


def contracts_table(summaries: Sequence[ContractSummary]) -> Table:
    table = Table(title="Contracts", title_justify="left", show_lines=False)
    for column in ("Ref", "Title", "Provider", "End", "Next decision", "Staffing", "Gap"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        next_decision = (
            f"{s.next_decision.kind.value} {format_uk(s.next_decision.due)} ({days_phrase(s.next_decision.days_left)})"
            if s.next_decision
            else "-"
        )
        end = (
            f"{format_uk(s.end)} ({days_phrase(s.days_to_end)})"
            if s.days_to_end >= 0
            else f"{format_uk(s.end)} (ended)"
        )
        staffing = (
            Text("AT RISK", style="bold red")
            if s.staffing.at_risk
            else Text(s.staffing.state.replace("_", " "))
        )
        gap = gbp_or_unknown(s.total_gap)
        table.add_row(s.ref, s.title, s.provider, end, next_decision, staffing, gap)
    return table


def milestones_table(
    items: Sequence[MilestoneView], *, title: str, with_ref: bool = False, notes: bool = True
) -> Table:
    table = Table(title=title, title_justify="left")
    columns = ["Due", "When", "Kind", "What", "Status", "Close with"]
    if with_ref:
        columns.insert(2, "Ref")
    for column in columns:
        table.add_column(column, overflow="fold")
    for m in items:
        when = days_phrase(m.days_left) if m.status == MilestoneStatus.OPEN else ""
        style = (
            "bold red"
            if m.status == MilestoneStatus.OPEN and m.days_left < 0 and m.is_decision
            else ""
        )
        what = Text(m.title)
        if notes and m.note:
            what.append(f"\n{m.note}", style="dim")
        status = m.status.value + (f" ({m.closed_note})" if m.closed_note else "")
        row: list[str | Text] = [
            format_uk(m.due),
            Text(when, style=style),
            m.kind.value,
            what,
            status,
            m.command or "",
        ]
        if with_ref:
            row.insert(2, m.ref)
        table.add_row(*row)
    return table


def gaps_table(summaries: Sequence[ContractSummary]) -> Table:
    table = Table(title="Funding gaps by financial year", title_justify="left")
    for column in ("Ref", "Year", "Cost", "Secured", "At risk", "Gap"):
        table.add_column(column, justify="right" if column not in ("Ref", "Year") else "left")
    for s in summaries:
        for g in s.gaps:
            cost = gbp_or_unknown(g.cost)
            if g.gap is None:
                gap = Text("cost unknown", style="yellow")
            elif g.gap > 0:
                gap = Text(format_gbp(g.gap), style="bold red")
            elif g.gap < 0:
                gap = Text(f"surplus {format_gbp(-g.gap)}")
            else:
                gap = Text("none")
            year = str(g.year) + ("" if g.in_term else " (outside term)")
            table.add_row(s.ref, year, cost, format_gbp(g.secured), format_gbp(g.at_risk), gap)
    return table


def print_warnings(out: Console, summaries: Sequence[ContractSummary]) -> None:
    for s in summaries:
        for warning in s.warnings:
            out.print(Text(f"Warning: {s.ref}: {warning}", style="yellow"))


def print_detail(out: Console, detail: ContractDetail) -> None:
    """``tracker show``: the contract's facts, then its options, milestones, money and log."""
    s = detail.summary
    out.print(Text(f"{s.ref}: {s.title}", style="bold"))
    for label, value in _facts(s):
        out.print(f"  {label + ':':<14}{value}")
    out.print(Text("  Staffing risk: ", style="bold") + staffing_text(s))
    if s.notes:
        out.print(f"  Notes: {s.notes}")
    if detail.extensions:
        out.print(_extensions_table(detail))
    out.print(milestones_table(s.milestones, title="Milestones"))
    out.print(gaps_table([s]))
    print_warnings(out, [s])
    if detail.funding:
        out.print(_funding_table(detail))
    if detail.costs:
        out.print(_costs_table(detail))
    if detail.variations:
        out.print(_variations_table(detail))
    print_sent(out, detail)
    if detail.events:
        out.print(Text("Recent changes", style="italic"))
        for event in detail.events[:10]:
            by = f"  (by {event.actor})" if event.actor else ""
            out.print(f"  {format_london_time(event.at)}  {event.detail}{by}")


def _variations_table(detail: ContractDetail) -> Table:
    table = Table(title="Variations", title_justify="left")
    for column in ("Variation", "Dated", "End", "Value", "By", "Note"):
        table.add_column(column)
    for v in detail.variations:
        end = (
            f"{format_uk(v.old_end)} -> {format_uk(v.new_end)}" if v.new_end and v.old_end else "-"
        )
        value = f"{_money(v.old_value)} -> {_money(v.new_value)}" if v.new_value else "-"
        table.add_row(v.ref_no, format_uk(v.dated), end, value, v.actor or "-", v.note or "")
    return table


def _facts(s: ContractSummary) -> list[tuple[str, str]]:
    """The labelled facts at the top of ``show``."""
    term = f"{format_uk(s.start)} to {format_uk(s.end)}"
    if s.original_end != s.end:
        term += f" (first agreed to {format_uk(s.original_end)})"
    facts = [
        ("Provider", s.provider),
        ("Commissioner", s.commissioner or "-"),
        ("Term", term),
        ("Value", _money(s.value)),
        ("Owner", s.owner or "-"),
        ("Sponsor", s.sponsor or "-"),
        ("Watchers", ", ".join(s.watchers) or "-"),
    ]
    if s.regime != "none" or s.entered_into is not None:
        facts.append(("Procurement", regime_phrase(s.regime, s.light_touch, s.entered_into)))
    if s.intervention_months:
        facts.append(("Intervention", f"{s.intervention_months} months on average"))
    if s.ended_on is not None:
        facts.append(("Ended", f"{s.end_reason} on {format_uk(s.ended_on)}"))
    facts.append(("Version", str(s.version)))
    return facts


def _extensions_table(detail: ContractDetail) -> Table:
    table = Table(title="Extension options", title_justify="left")
    for column in ("#", "Until", "Notice", "Status"):
        table.add_column(column)
    for e in detail.extensions:
        notice = format_uk(e.notice_by) if e.notice_by else f"{e.notice_days} days before the end"
        table.add_row(str(e.seq), format_uk(e.until), notice, e.status)
    return table


def _funding_table(detail: ContractDetail) -> Table:
    table = Table(title="Funding lines", title_justify="left")
    for column in ("ID", "Year", "Source", "Amount", "Status", "Confirm by"):
        table.add_column(column, justify="right" if column == "Amount" else "left")
    for line in detail.funding:
        table.add_row(
            line.line_id,
            line.year,
            line.label,
            format_gbp(line.amount),
            line.status or "",
            format_uk(line.confirm_by) if line.confirm_by else "",
        )
    return table


def _costs_table(detail: ContractDetail) -> Table:
    table = Table(title="Cost lines", title_justify="left")
    for column in ("ID", "Year", "Category", "Amount"):
        table.add_column(column, justify="right" if column == "Amount" else "left")
    for line in detail.costs:
        table.add_row(line.line_id, line.year, line.label or "-", format_gbp(line.amount))
    return table


def print_sent(out: Console, detail: ContractDetail) -> None:
    """Every delivery attempt about the contract: "were we warned, and when?"."""
    if not detail.reminders:
        out.print(Text("Reminders sent: none yet", style="italic"))
        return
    table = Table(title="Reminders sent (every attempt)", title_justify="left")
    for column in ("When (London)", "About", "To", "Outcome", "Server reply"):
        table.add_column(column, overflow="fold")
    for a in detail.reminders:
        lead = f"{-a.lead} days overdue" if a.lead < 0 else f"{a.lead} days before"
        about = f"{a.kind} due {format_uk(a.milestone_due)} ({lead})"
        table.add_row(format_london_time(a.at), about, a.recipient, a.outcome, a.reply)
    out.print(table)
