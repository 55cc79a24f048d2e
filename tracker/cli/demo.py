"""The demo: both seed records in a throwaway SQLite database, shown as a manager would see them.

Each record is shown as of its own date (West Mercia's approval, 24 Oct 2018; the
Lancashire decision, 2 Sep 2024) so the demo shows what the tracker would have told
the manager then; ``--now`` shows both as of one moment instead.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracker.cli.common import GlobalOptions
from tracker.cli.output import console
from tracker.cli.render import gaps_table, milestones_table, print_warnings
from tracker.domain.calendar import LONDON
from tracker.domain.dates import format_uk, parse_now
from tracker.domain.money import format_gbp
from tracker.mail.digest import render_digest
from tracker.service.app import App, make_app, opened
from tracker.service.contracts import add_contracts
from tracker.service.digest.send import preview_digests
from tracker.service.registers.read import read_contracts
from tracker.service.reminders.simulate import SimulatedEmail, simulate
from tracker.service.views.contracts import ContractSummary, gaps


@dataclass(frozen=True)
class Seed:
    file: str
    ref: str
    as_of: str
    why: str


#: The period the demo replays for Lancashire: the run-up to the contract's end.
SIMULATE_FROM = date(2024, 1, 1)
SIMULATE_TO = date(2025, 3, 31)
FIRST_EMAILS = 12

SEEDS = (
    Seed(
        "west-mercia-drive-2018.yaml",
        "PCC/D/2018/25",
        "2018-10-24",
        "the date of its record of decision",
    ),
    Seed("lancashire-drive-2024.yaml", "LANCS-DRIVE", "2024-09-02", "the date of decision 20/2024"),
)


def seed_files(into: Path) -> list[Path]:
    """Copy the packaged seed YAML out (importlib resources may live in a zip)."""
    paths = []
    for seed in SEEDS:
        target = into / seed.file
        text = files("tracker.config").joinpath("seeds", seed.file).read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        paths.append(target)
    return paths


def _when(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _section(out: Console, summary: ContractSummary, moment: datetime, why: str) -> None:
    out.print(Text(f"{summary.ref}: {summary.title}", style="bold"))
    out.print(f"  as of {_when(moment)} ({why})")
    value = format_gbp(summary.value) if summary.value is not None else "-"
    out.print(
        f"  {summary.provider}; {format_uk(summary.start)} to {format_uk(summary.end)}; value {value}"
    )
    style = "bold red" if summary.staffing.at_risk else ""
    out.print(Text("  Staffing risk: ", style="bold") + Text(summary.staffing.summary, style=style))
    out.print(milestones_table(summary.milestones, title="Decisions and dates", notes=False))
    out.print(gaps_table([summary]))
    print_warnings(out, [summary])
    out.print()


def _print_simulation(out: Console, emails: list[SimulatedEmail], outbox: Path) -> None:
    """A summary per kind (leads and nags), the first emails, and where all of them are."""
    out.print(
        Text(
            f"What LANCS-DRIVE's people would have been sent, {format_uk(SIMULATE_FROM)} to "
            f"{format_uk(SIMULATE_TO)}, had nobody marked anything done (tracker simulate):",
            style="bold",
        )
    )
    table = Table(title_justify="left")
    for column in ("Milestone", "Reminders", "Overdue nags", "First", "Last"):
        table.add_column(column)
    kinds = sorted(
        {e.kind for e in emails}, key=lambda k: min(e.send_at for e in emails if e.kind == k)
    )
    for kind in kinds:
        mine = [e for e in emails if e.kind == kind]
        leads = sum(1 for e in mine if e.lead >= 0)
        first = format_uk(min(e.send_at for e in mine).date())
        last = format_uk(max(e.send_at for e in mine).date())
        table.add_row(kind, str(leads), str(len(mine) - leads), first, last)
    out.print(table)
    for e in emails[:FIRST_EMAILS]:
        local = e.send_at.astimezone(LONDON)
        out.print(
            f"  {local:%a} {format_uk(local.date())} {local:%H:%M}  {e.recipient}  {e.subject}",
            soft_wrap=True,
        )
    if len(emails) > FIRST_EMAILS:
        out.print(f"  ... and {len(emails) - FIRST_EMAILS} more")
    out.print(f"{len(emails)} emails, written as .eml files to {outbox}")
    out.print()


def run_demo(opts: GlobalOptions) -> None:
    out = console()
    workdir = Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    url = f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
    contracts = [c for path in seed_files(workdir) for c in read_contracts(path)]
    fixed = parse_now(opts.now) if opts.now else None
    moments = [fixed or parse_now(seed.as_of) for seed in SEEDS]

    async def _load() -> list[ContractSummary]:
        loader = make_app(db=url, config=opts.config, now=min(moments))
        async with opened(loader):
            await add_contracts(loader, contracts)
        shown = []
        for seed, moment in zip(SEEDS, moments, strict=True):
            app: App = make_app(db=url, config=opts.config, now=moment)
            async with opened(app):
                shown.extend(await gaps(app, seed.ref))
        return shown

    outbox = workdir / "outbox"

    async def _simulate() -> list[SimulatedEmail]:
        app = make_app(db=url, config=opts.config, now=max(moments))
        async with opened(app):
            return await simulate(
                app, start=SIMULATE_FROM, end=SIMULATE_TO, ref=SEEDS[1].ref, outbox=outbox
            )

    digests = workdir / "digests"

    async def _digests() -> int:
        app = make_app(
            db=url, config=opts.config, now=fixed or parse_now(SEEDS[1].as_of + " 09:00")
        )
        async with opened(app):
            previews = await preview_digests(app)
        digests.mkdir()
        for person, email in previews:
            rendered = render_digest(email)
            (digests / f"{person}.html").write_text(rendered.html, encoding="utf-8")
            (digests / f"{person}.txt").write_text(
                f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8"
            )
        return len(previews)

    summaries = asyncio.run(_load())
    emails = asyncio.run(_simulate())
    people = asyncio.run(_digests())
    out.print(Text("contract-tracker demo", style="bold"))
    out.print(
        f"Two real commissioning records, loaded into a throwaway database: {workdir / 'demo.db'}"
    )
    if fixed is None:
        out.print(
            "Each contract is shown as of its record's own date; give --now to see both at one moment."
        )
    out.print()
    for seed, summary, moment in zip(SEEDS, summaries, moments, strict=True):
        _section(out, summary, moment, "as given by --now" if fixed else seed.why)
    _print_simulation(out, emails, outbox)
    out.print(
        Text(f"Weekly digests as of {_when(fixed or parse_now(SEEDS[1].as_of))}", style="bold")
    )
    out.print(
        f"  {people} people (owners, sponsors, watchers): one .html and one .txt each in {digests}"
    )
    out.print()
    lancs = SEEDS[1]
    now_arg = opts.now or lancs.as_of
    out.print("Explore the demo database:")
    out.print(f"  tracker --db {url} --now {now_arg} show {lancs.ref}")
    out.print(f"  tracker --db {url} --now {now_arg} timeline --days 365")
    out.print(f"  tracker --db {url} --now {now_arg} gaps")
