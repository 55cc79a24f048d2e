"""The demo: both seed records in a throwaway SQLite database, shown as a manager would see them."""

from __future__ import annotations

import asyncio
import tempfile
from importlib.resources import files
from pathlib import Path

from rich.text import Text

from tracker.cli.common import GlobalOptions
from tracker.cli.output import console
from tracker.cli.render import contracts_table, gaps_table, milestones_table, print_warnings
from tracker.domain.calendar import LONDON
from tracker.domain.dates import parse_now
from tracker.service.app import make_app, opened
from tracker.service.contracts import add_contracts
from tracker.service.importer import read_contracts
from tracker.service.views import list_contracts

SEEDS = ("west-mercia-drive-2018.yaml", "lancashire-drive-2024.yaml")


def seed_files(into: Path) -> list[Path]:
    """Copy the packaged seed YAML out (importlib resources may live in a zip)."""
    paths = []
    for name in SEEDS:
        target = into / name
        target.write_text(files("tracker.config").joinpath("seeds", name).read_text(encoding="utf-8"), encoding="utf-8")
        paths.append(target)
    return paths


def run_demo(opts: GlobalOptions, *, default_now: str) -> None:
    out = console()
    workdir = Path(tempfile.mkdtemp(prefix="tracker-demo-"))
    db_path = workdir / "demo.db"
    url = f"sqlite+aiosqlite:///{db_path}"
    now = parse_now(opts.now or default_now)
    app = make_app(db=url, config=opts.config, now=now)
    contracts = [c for path in seed_files(workdir) for c in read_contracts(path)]

    async def _load() -> list[object]:
        async with opened(app):
            await add_contracts(app, contracts)
            return list(await list_contracts(app))

    summaries = asyncio.run(_load())
    local = now.astimezone(LONDON)
    out.print(Text("contract-tracker demo", style="bold"))
    out.print(f"Two real commissioning records loaded into a throwaway database: {db_path}")
    why = (
        "the date of the Lancashire decision record 20/2024"
        if opts.now is None
        else "as given by --now"
    )
    out.print(f"Acting as of {local:%A} {local.day} {local:%B %Y, %H:%M} London time ({why}; change it with --now).")
    out.print()
    out.print(contracts_table(summaries))  # type: ignore[arg-type]
    out.print(Text("Staffing risk", style="bold"))
    for s in summaries:
        style = "bold red" if s.staffing.at_risk else ""  # type: ignore[attr-defined]
        out.print(Text(f"  {s.ref}: {s.staffing.summary}", style=style))  # type: ignore[attr-defined]
    out.print()
    for s in summaries:
        out.print(milestones_table(s.milestones, title=f"Decisions and dates: {s.ref}"))  # type: ignore[attr-defined]
    out.print(gaps_table(summaries))  # type: ignore[arg-type]
    print_warnings(out, summaries)  # type: ignore[arg-type]
    out.print()
    out.print("Explore the demo database:")
    out.print(f"  tracker --db {url} --now {default_now if opts.now is None else opts.now} show LANCS-DRIVE")
    out.print(f"  tracker --db {url} --now {default_now if opts.now is None else opts.now} timeline --days 365")
