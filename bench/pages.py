"""Time of the web app's My decisions and contract page reads at two sizes (on demand).

    .venv/bin/python bench/pages.py --small 100 --large 10000

Fills a SQLite database at each size with bench/generate.py (2,000 people at 10,000
contracts), then times, in process, :func:`tracker.service.views.decisions.my_decisions`
for the busiest person and :func:`tracker.service.views.contract_page.contract_page` for
one of their contracts: the reads behind ``/`` and ``/contracts/{ref}`` without HTTP.
Prints the median of ``--repeat`` runs at each size and the large/small ratio (issue 17
asks for at most 1.5). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import DEFAULT_NOW, generate, sqlite_url
from tracker.policy import load_policy
from tracker.service.app import App
from tracker.service.views.contract_page import contract_page
from tracker.service.views.decisions import my_decisions
from tracker.settings import Settings
from tracker.store.models import ContractRow


async def _busiest(app: App) -> tuple[str, str]:
    """The person owning the most contracts, and one of those contracts' refs."""
    async with app.session() as session:
        owner, _count = (
            await session.execute(
                select(ContractRow.owner, func.count())
                .group_by(ContractRow.owner)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
        ref = (
            await session.execute(
                select(ContractRow.ref).where(ContractRow.owner == owner).limit(1)
            )
        ).scalar_one()
    return str(owner), str(ref)


async def _median(repeat: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()  # warm the caches once
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def measure(directory: Path, contracts: int, repeat: int) -> dict[str, float]:
    url = sqlite_url(directory / f"pages-{contracts}.db")
    await generate(url, contracts)
    app = App(settings=Settings(), policy=load_policy(), now=DEFAULT_NOW, database_url=url)
    try:
        person, ref = await _busiest(app)
        return {
            "home": await _median(repeat, lambda: my_decisions(app, person)),
            "contract": await _median(repeat, lambda: contract_page(app, ref, person, False)),
        }
    finally:
        await app.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = asyncio.run(measure(Path(tmp), args.small, args.repeat))
        large = asyncio.run(measure(Path(tmp), args.large, args.repeat))
    print(f"{'page':<10}{args.small:>10,} c.{args.large:>10,} c.   ratio")
    for page in small:
        ratio = large[page] / small[page]
        print(
            f"{page:<10}{small[page] * 1000:>10.1f} ms{large[page] * 1000:>10.1f} ms   {ratio:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
