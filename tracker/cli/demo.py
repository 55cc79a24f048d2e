"""The demo: both seed records in a throwaway SQLite database, shown as a manager would see them.

Each record is shown as of its own date (West Mercia's approval, 24 Oct 2018; the
Lancashire decision, 2 Sep 2024) so the demo shows what the tracker would have told
the manager then; ``--now`` shows both as of one moment instead.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.utils import parsedate_to_datetime
from importlib.resources import files
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracker.cli.common import GlobalOptions
from tracker.cli.output import console
from tracker.cli.render import gaps_table, milestones_table, print_warnings
from tracker.domain.calendar import LONDON
from tracker.domain.dates import describe_day, format_uk, parse_now, weekday_name
from tracker.domain.money import format_gbp
from tracker.mail.digest import render_digest
from tracker.service.app import App, make_app, opened
from tracker.service.contracts import add_contracts
from tracker.service.digest.send import preview_digests
from tracker.service.registers.inputs import ContractInput
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
#: Where the demo's links point: a `tracker serve` on this machine.
DEMO_BASE_URL = "http://127.0.0.1:8080"
_MARK_DONE = re.compile(r"Mark done: (\S+)")

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
    return describe_day(moment.astimezone(LONDON).date())


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
        first, last = (format_uk(f(e.send_at for e in mine).date()) for f in (min, max))
        table.add_row(kind, str(leads), str(len(mine) - leads), first, last)
    out.print(table)
    for e in emails[:FIRST_EMAILS]:
        local = e.send_at.astimezone(LONDON)
        out.print(
            f"  {weekday_name(local.date())[:3]} {format_uk(local.date())} {local:%H:%M}  {e.recipient}  {e.subject}",
            soft_wrap=True,
        )
    if len(emails) > FIRST_EMAILS:
        out.print(f"  ... and {len(emails) - FIRST_EMAILS} more")
    out.print(f"{len(emails)} emails, written as .eml files to {outbox}")
    out.print()


@dataclass(frozen=True, kw_only=True)
class _DemoRun:
    """Where one demo run keeps its files, and the moments it shows each seed at."""

    opts: GlobalOptions
    workdir: Path
    fixed: datetime | None  # --now, when given: every seed is shown as of it
    moments: tuple[datetime, ...]  # one per seed
    #: A throwaway key that signs the links in the demo's emails (printed with `serve`).
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'demo.db'}"

    @property
    def outbox(self) -> Path:
        return self.workdir / "outbox"

    @property
    def digests(self) -> Path:
        return self.workdir / "digests"

    def app(self, now: datetime) -> App:
        """An App on the demo database whose emails link to a local `tracker serve`."""
        app = make_app(db=self.url, config=self.opts.config, now=now)
        links = {"base_url": DEMO_BASE_URL, "secret_key": SecretStr(self.secret)}
        app.settings = app.settings.model_copy(update=links)
        return app


async def _load(run: _DemoRun, contracts: list[ContractInput]) -> list[ContractSummary]:
    """Load the seeds, then each seed's summary as of its own moment."""
    async with opened(run.app(min(run.moments))) as loader:
        await add_contracts(loader, contracts)
    shown = []
    for seed, moment in zip(SEEDS, run.moments, strict=True):
        async with opened(run.app(moment)) as app:
            shown.extend(await gaps(app, seed.ref))
    return shown


async def _simulate(run: _DemoRun) -> list[SimulatedEmail]:
    """Lancashire's reminders over the run-up to its end, written to the outbox folder."""
    async with opened(run.app(max(run.moments))) as app:
        return await simulate(
            app, start=SIMULATE_FROM, end=SIMULATE_TO, ref=SEEDS[1].ref, outbox=run.outbox
        )


async def _write_digests(run: _DemoRun) -> int:
    """Everyone's digest as of the Lancashire decision (09:00), as .html and .txt files."""
    async with opened(run.app(run.fixed or parse_now(SEEDS[1].as_of + " 09:00"))) as app:
        previews = await preview_digests(app)
    run.digests.mkdir()
    for person, email in previews:
        rendered = render_digest(email)
        (run.digests / f"{person}.html").write_text(rendered.html, encoding="utf-8")
        text = f"Subject: {rendered.subject}\n\n{rendered.text}"
        (run.digests / f"{person}.txt").write_text(text, encoding="utf-8")
    return len(previews)


def _print_intro(out: Console, run: _DemoRun) -> None:
    out.print(Text("contract-tracker demo", style="bold"))
    out.print(
        f"Two real commissioning records, loaded into a throwaway database: {run.workdir / 'demo.db'}"
    )
    if run.fixed is None:
        out.print(
            "Each contract is shown as of its record's own date; give --now to see both at one moment."
        )
    out.print()


def _print_digests(out: Console, run: _DemoRun, people: int) -> None:
    moment = run.fixed or parse_now(SEEDS[1].as_of)
    out.print(Text(f"Weekly digests as of {_when(moment)}", style="bold"))
    out.print(
        f"  {people} people (owners, sponsors, watchers): one .html and one .txt each in {run.digests}"
    )
    out.print()


def _print_explore(out: Console, run: _DemoRun) -> None:
    lancs = SEEDS[1]
    now_arg = run.opts.now or lancs.as_of
    out.print("Explore the demo database:")
    out.print(f"  tracker --db {run.url} --now {now_arg} show {lancs.ref}")
    out.print(f"  tracker --db {run.url} --now {now_arg} timeline --days 365")
    out.print(f"  tracker --db {run.url} --now {now_arg} gaps")


def first_link(outbox: Path) -> tuple[datetime, str, str] | None:
    """The earliest email in the outbox with a Mark done link: (its date, to whom, the link)."""
    found = []
    for path in outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        body = message.get_body(("plain",))
        link = _MARK_DONE.search(str(body.get_content())) if body is not None else None
        if link is not None:
            sent = parsedate_to_datetime(str(message["Date"]))
            found.append((sent, str(message["To"]), link.group(1)))
    return min(found) if found else None


def _print_web(out: Console, run: _DemoRun) -> None:
    first = first_link(run.outbox)
    if first is None:
        return
    sent, recipient, link = first
    serve_at = (sent + timedelta(hours=1)).astimezone(LONDON)
    out.print(Text("Act from an email: the web app on the demo database", style="bold"))
    out.print(
        f"  TRACKER_BASE_URL={DEMO_BASE_URL} TRACKER_SECRET_KEY={run.secret} "
        f'tracker --db {run.url} --now "{serve_at:%Y-%m-%d %H:%M}" serve --port 8080',
        soft_wrap=True,
    )
    out.print(
        f"  then open the Mark done link of the email of {format_uk(sent.astimezone(LONDON).date())} "
        f"to {recipient} (a throwaway key signs the demo's links):",
        soft_wrap=True,
    )
    out.print(f"  {link}", soft_wrap=True)
    out.print()


def run_demo(opts: GlobalOptions) -> None:
    """Load the seeds, show each, simulate Lancashire's reminders and write the digests."""
    out = console()
    workdir = Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    contracts = [c for path in seed_files(workdir) for c in read_contracts(path)]
    fixed = parse_now(opts.now) if opts.now else None
    moments = tuple(fixed or parse_now(seed.as_of) for seed in SEEDS)
    run = _DemoRun(opts=opts, workdir=workdir, fixed=fixed, moments=moments)
    summaries = asyncio.run(_load(run, contracts))
    emails = asyncio.run(_simulate(run))
    people = asyncio.run(_write_digests(run))
    _print_intro(out, run)
    for seed, summary, moment in zip(SEEDS, summaries, moments, strict=True):
        _section(out, summary, moment, "as given by --now" if fixed else seed.why)
    _print_simulation(out, emails, run.outbox)
    _print_digests(out, run, people)
    _print_web(out, run)
    _print_explore(out, run)
