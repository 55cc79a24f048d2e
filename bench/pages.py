"""Time of the web app's pages: in process at two sizes, and over HTTP under load (on demand).

    .venv/bin/python bench/pages.py --size smoke      # a few seconds: checks it all runs
    .venv/bin/python bench/pages.py                   # full: 100 vs 10,000 contracts

Fills a SQLite database at each size with bench/generate.py (2,000 people at 10,000
contracts). In process, without HTTP, it times the reads behind the three pages issue 17
names, for the busiest person: ``/`` (:func:`tracker.service.views.decisions.my_decisions`),
``/contracts/{ref}`` (:func:`tracker.service.views.contract_page.contract_page`, one of
their contracts) and ``/register`` (:func:`tracker.service.views.register.register_page`,
first page, default sort), printing the median of ``--repeat`` runs at each size and the
large/small ratio (target at most 1.5). Then, over HTTP, it starts a real ``tracker serve``
on the large database (tests/support/web.py starts it as the web tests do), signs
``--clients`` concurrent clients in with session cookies (tests/support/session.py) as
several busy people, and sends ``--requests`` GETs spread evenly over the three pages:
median and 95th percentile latency per page and requests per second. Client and server
share the machine's cores, so the figures are for loopback on that machine. Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select

# tests/support starts the server and makes the session cookie as the web tests do.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.processes import clean_env
from support.session import session_cookie
from support.web import SECRET, serve_port, start_serve, web_env

from bench.generate import DEFAULT_NOW, generate, sqlite_url
from tracker.policy import load_policy
from tracker.service.app import App
from tracker.service.views.contract_page import contract_page
from tracker.service.views.decisions import my_decisions
from tracker.service.views.register import RegisterQuery, register_page
from tracker.settings import Settings
from tracker.store.models import ContractRow
from tracker.web.auth import SESSION_COOKIE

#: The busy people the HTTP clients sign in as, and contracts of each they open.
BUSY = 5
REFS_EACH = 3
#: The moment the server runs at: the generator's now (UTC).
SERVER_NOW = DEFAULT_NOW.strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Size:
    small: int
    large: int
    repeat: int
    clients: int
    requests: int


SIZES = {
    "smoke": Size(small=20, large=200, repeat=3, clients=10, requests=150),
    "full": Size(small=100, large=10_000, repeat=20, clients=50, requests=3_000),
}


@dataclass(frozen=True)
class Person:
    email: str
    refs: tuple[str, ...]


#: Each page: its in-process read, and its path over HTTP (the nth request of a person).
READS: dict[str, Callable[[App, Person], Awaitable[Any]]] = {
    "home": lambda app, p: my_decisions(app, p.email),
    "contract": lambda app, p: contract_page(app, p.refs[0], p.email, False),
    "register": lambda app, p: register_page(app, p.email, False, RegisterQuery()),
}
PATHS: dict[str, Callable[[Person, int], str]] = {
    "home": lambda p, n: "/",
    "contract": lambda p, n: f"/contracts/{quote(p.refs[n % len(p.refs)], safe='/')}",
    "register": lambda p, n: "/register",
}


async def busiest(app: App, count: int) -> list[Person]:
    """The ``count`` people owning the most contracts, with a few of each one's refs."""
    async with app.session() as session:
        owners = (
            await session.execute(
                select(ContractRow.owner)
                .where(ContractRow.owner.is_not(None))
                .group_by(ContractRow.owner)
                .order_by(func.count().desc(), ContractRow.owner)
                .limit(count)
            )
        ).scalars()
        people = []
        for owner in list(owners):
            refs = await session.execute(
                select(ContractRow.ref)
                .where(ContractRow.owner == owner)
                .order_by(ContractRow.ref)
                .limit(REFS_EACH)
            )
            people.append(Person(str(owner), tuple(refs.scalars())))
    return people


def _app(url: str) -> App:
    return App(settings=Settings(), policy=load_policy(), now=DEFAULT_NOW, database_url=url)


async def _median(repeat: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()  # warm the caches once
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def in_process(url: str, contracts: int, repeat: int) -> dict[str, float]:
    """Fill the database at ``url`` with ``contracts`` and time each page's read."""
    await generate(url, contracts)
    app = _app(url)
    try:
        person = (await busiest(app, 1))[0]
        medians = {}
        for page, read in READS.items():
            medians[page] = await _median(repeat, partial(read, app, person))
        return medians
    finally:
        await app.close()


@dataclass
class Load:
    """What the HTTP clients saw: seconds per request by page, and any request not 200."""

    latencies: dict[str, list[float]]
    errors: list[str]
    seconds: float = 0.0


async def _client(base_url: str, person: Person, jobs: Iterator[int], load: Load) -> None:
    """One signed-in client: takes request numbers from the shared ``jobs`` until none are
    left, so the clients between them send exactly the fixed number of requests."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        client.cookies.set(SESSION_COOKIE, session_cookie(person.email, SECRET))
        for n in jobs:
            page = list(PATHS)[n % len(PATHS)]
            path = PATHS[page](person, n // len(PATHS))
            began = time.perf_counter()
            response = await client.get(path)
            load.latencies[page].append(time.perf_counter() - began)
            if response.status_code != 200:
                load.errors.append(f"{person.email} GET {path}: {response.status_code}")


async def drive(base_url: str, people: list[Person], clients: int, requests: int) -> Load:
    """Each page once per person (warm-up, must be 200), then ``requests`` GETs from
    ``clients`` concurrent clients, client i signed in as person i mod len(people)."""
    warm = Load({page: [] for page in PATHS}, [])
    for person in people:
        await _client(base_url, person, iter(range(len(PATHS))), warm)
    if warm.errors:
        raise SystemExit("warm-up failed: " + "; ".join(warm.errors))
    load = Load({page: [] for page in PATHS}, [])
    jobs = iter(range(requests))
    began = time.perf_counter()
    await asyncio.gather(
        *(_client(base_url, people[i % len(people)], jobs, load) for i in range(clients))
    )
    load.seconds = time.perf_counter() - began
    return load


def over_http(url: str, directory: Path, size: Size) -> tuple[list[Person], Load]:
    """A real ``tracker serve`` on the database at ``url``, driven by :func:`drive`."""
    people = asyncio.run(_people(url))
    port = serve_port()
    home = directory / "home"
    home.mkdir(exist_ok=True)
    env = web_env(clean_env(home), port)
    served = start_serve(url, env, directory, port=port, now=SERVER_NOW)
    try:
        load = asyncio.run(drive(served.base_url, people, size.clients, size.requests))
    except Exception:
        print(served.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        served.stop()
    return people, load


async def _people(url: str) -> list[Person]:
    app = _app(url)
    try:
        return await busiest(app, BUSY)
    finally:
        await app.close()


def p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0]
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def print_in_process(size: Size, small: dict[str, float], large: dict[str, float]) -> None:
    print(f"In process, busiest person, median of {size.repeat} runs")
    print(f"{'page':<10}{size.small:>10,} c.{size.large:>10,} c.{'ratio':>8}   target <= 1.5")
    for page in small:
        ratio = large[page] / small[page]
        verdict = "PASS" if ratio <= 1.5 else "MISS"
        print(
            f"{page:<10}{small[page] * 1000:>10.1f} ms{large[page] * 1000:>10.1f} ms"
            f"{ratio:>8.2f}   {verdict}"
        )


def print_load(size: Size, people: list[Person], load: Load) -> None:
    done = sum(len(t) for t in load.latencies.values())
    print(
        f"\nHTTP on loopback: tracker serve on {size.large:,} contracts, {size.clients} "
        f"clients as {len(people)} people, {done:,} requests in {load.seconds:.1f} s: "
        f"{done / load.seconds:.0f} req/s"
    )
    print(f"{'page':<10}{'requests':>10}{'median':>12}{'p95':>12}")
    for page, times in load.latencies.items():
        print(
            f"{page:<10}{len(times):>10,}{statistics.median(times) * 1000:>9.1f} ms"
            f"{p95(times) * 1000:>9.1f} ms"
        )
    if load.errors:
        print(f"{len(load.errors)} requests not 200, e.g. {load.errors[0]}")


def _arguments() -> tuple[Size, str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--mode", choices=("all", "inprocess", "http"), default="all")
    for name in ("small", "large", "repeat", "clients", "requests"):
        parser.add_argument(f"--{name}", type=int, help=f"override the size's {name}")
    args = parser.parse_args()
    chosen = {n: getattr(args, n) for n in ("small", "large", "repeat", "clients", "requests")}
    size = replace(SIZES[args.size], **{n: v for n, v in chosen.items() if v is not None})
    return size, args.mode


def main() -> int:
    size, mode = _arguments()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        large_url = sqlite_url(directory / f"pages-{size.large}.db")
        if mode == "http":
            asyncio.run(generate(large_url, size.large))
        else:
            small_url = sqlite_url(directory / f"pages-{size.small}.db")
            small = asyncio.run(in_process(small_url, size.small, size.repeat))
            large = asyncio.run(in_process(large_url, size.large, size.repeat))
            print_in_process(size, small, large)
        if mode != "inprocess":
            people, load = over_http(large_url, directory, size)
            print_load(size, people, load)
            if load.errors:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
