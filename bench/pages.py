"""Time of the web app's pages: in process at two sizes, and over HTTP under load (on demand).

    .venv/bin/python bench/pages.py --size smoke      # a few seconds: checks it all runs
    .venv/bin/python bench/pages.py                   # full: 100 vs 10,000 contracts

Fills a SQLite database at each size with bench/generate.py (2,000 people at 10,000
contracts; run as a child process, so the timing process does not carry the generator's
million objects). In process, without HTTP, it times the reads behind the three pages
issue 17 names: ``/`` (:func:`tracker.service.views.decisions.my_decisions`),
``/contracts/{ref}`` (:func:`tracker.service.views.contract_page.contract_page`) and
``/register`` (:func:`tracker.service.views.register.register_page`, first page, default
sort). The two sizes are timed alternately (small, large, large, small, ...), so a burst
of other work on a shared machine hits both; it prints the median of ``--repeat`` runs at
each size and the median of the runs' large/small ratios (each run's pair of timings back
to back).

Two sets of figures, because two things grow from 100 to 10,000 contracts:

* **Like for like** (the ratio with the target, at most 1.5): the same workload at both
  sizes, so the ratio measures growth with the database's size alone. The home and the
  register are read for the person involved in (owning, sponsoring or watching) the
  number of contracts nearest :data:`INVOLVED`, the same number at both sizes (one person
  per five contracts at either size: about 17 each on average); the contract page for a
  contract of the same shape at both sizes (:class:`Shape`: milestones, delivery attempts,
  changes, funding and cost lines; of the shapes found at both sizes, the one nearest
  :data:`SHAPE`), viewed by its owner. The figures print whose pages they were.
* **Busiest person** (information, no target): the person involved in the most contracts,
  and the first of theirs by ref. At 10,000 contracts the busiest has more (about 30
  against 20 at 100), so this ratio mixes the database's growth with a bigger workload.

Then, over HTTP, it starts a real ``tracker serve`` (``--workers`` uvicorn processes) on
the large database (tests/support/web.py starts it as the web tests do), signs
``--clients`` concurrent clients in with session cookies (tests/support/session.py) as the
:data:`BUSY` busiest people, and sends ``--requests`` GETs spread evenly over the three
pages: median and 95th percentile latency per page and requests per second. Client and
server share the machine's cores, so the figures are for loopback on that machine. Not
part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, literal, select, union_all

# tests/support starts the server and makes the session cookie as the web tests do.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.processes import clean_env
from support.session import session_cookie
from support.web import SECRET, serve_port, start_serve, web_env

from bench.generate import DEFAULT_NOW, sqlite_url
from tracker.policy import load_policy
from tracker.service.app import App
from tracker.service.views.contract_page import contract_page
from tracker.service.views.decisions import my_decisions
from tracker.service.views.register import RegisterQuery, register_page
from tracker.settings import Settings
from tracker.store.models import (
    ContractRow,
    CostRow,
    DeliveryAttemptRow,
    EventRow,
    FundingRow,
    MilestoneRow,
    ReminderRow,
    WatcherRow,
)
from tracker.web.auth import SESSION_COOKIE

#: The busy people the HTTP clients sign in as, and contracts of each they open.
BUSY = 5
REFS_EACH = 3
#: The moment the server runs at: the generator's now (UTC).
SERVER_NOW = DEFAULT_NOW.strftime("%Y-%m-%dT%H:%MZ")
#: Like for like: the person involved in this many contracts (or the nearest), at both sizes.
INVOLVED = 17


@dataclass(frozen=True)
class Shape:
    """What the contract page reads of a contract, in rows."""

    milestones: int
    attempts: int
    changes: int
    lines: int

    def distance(self, other: Shape) -> int:
        return sum(abs(a - b) for a, b in zip(astuple(self), astuple(other), strict=True))

    def __str__(self) -> str:
        return ", ".join(
            f"{value} {f.name}" for f, value in zip(fields(self), astuple(self), strict=True)
        )


#: Like for like: the contract page's contract has, at both sizes, the shape nearest this
#: one (about the generator's average) of those found at both.
SHAPE = Shape(milestones=12, attempts=40, changes=7, lines=12)


@dataclass(frozen=True)
class Size:
    small: int
    large: int
    repeat: int
    clients: int
    requests: int
    workers: int = 1


SIZES = {
    "smoke": Size(small=20, large=200, repeat=3, clients=10, requests=150),
    "full": Size(small=100, large=10_000, repeat=50, clients=50, requests=3_000),
}


@dataclass(frozen=True)
class Person:
    email: str
    #: How many contracts they own, sponsor or watch.
    involved: int
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Subject:
    """Whose pages are timed at one size: the home's and the register's person, and the
    contract page's contract (its ref and shape) with the person who opens it."""

    person: Person
    ref: str
    viewer: str
    shape: Shape | None = None


#: Each page: its in-process read.
READS: dict[str, Callable[[App, Subject], Awaitable[Any]]] = {
    "home": lambda app, s: my_decisions(app, s.person.email),
    "contract": lambda app, s: contract_page(app, s.ref, s.viewer, False),
    "register": lambda app, s: register_page(app, s.person.email, False, RegisterQuery()),
}
#: Each page's path over HTTP (the nth request of a person).
PATHS: dict[str, Callable[[Person, int], str]] = {
    "home": lambda p, n: "/",
    "contract": lambda p, n: f"/contracts/{quote(p.refs[n % len(p.refs)], safe='/')}",
    "register": lambda p, n: "/register",
}


def _involvement() -> Any:
    """(email, number of contracts) for everyone who owns, sponsors or watches one."""
    pairs = union_all(
        select(ContractRow.owner.label("email"), ContractRow.id.label("cid")).where(
            ContractRow.owner.is_not(None)
        ),
        select(ContractRow.sponsor, ContractRow.id).where(ContractRow.sponsor.is_not(None)),
        select(WatcherRow.email, WatcherRow.contract_id),
    ).subquery()
    count = func.count(func.distinct(pairs.c.cid)).label("involved")
    return select(pairs.c.email, count).group_by(pairs.c.email).subquery()


async def _person(app: App, email: str, involved: int) -> Person:
    """``email`` with the first :data:`REFS_EACH` contracts they own, by ref."""
    async with app.session() as session:
        refs = await session.execute(
            select(ContractRow.ref)
            .where(ContractRow.owner == email)
            .order_by(ContractRow.ref)
            .limit(REFS_EACH)
        )
        return Person(email, involved, tuple(refs.scalars()))


async def busiest(app: App, count: int) -> list[Person]:
    """The ``count`` people involved in the most contracts, with a few of the refs they own."""
    people = _involvement()
    async with app.session() as session:
        rows = (
            await session.execute(
                select(people.c.email, people.c.involved)
                .order_by(people.c.involved.desc(), people.c.email)
                .limit(count)
            )
        ).all()
    return [await _person(app, str(email), int(involved)) for email, involved in rows]


async def involved_in(app: App, target: int) -> Person:
    """The person involved in the number of contracts nearest ``target`` (the first by
    address of those)."""
    people = _involvement()
    async with app.session() as session:
        email, involved = (
            await session.execute(
                select(people.c.email, people.c.involved)
                .order_by(func.abs(people.c.involved - literal(target)), people.c.email)
                .limit(1)
            )
        ).one()
    return await _person(app, str(email), int(involved))


def _counts(column: Any, *joins: Any, where: Any = None) -> Any:
    """Rows per contract of ``column``'s table, as a subquery (contract_id, n)."""
    statement = select(column.label("contract_id"), func.count().label("n"))
    for table, on in joins:
        statement = statement.join(table, on)
    if where is not None:
        statement = statement.where(where)
    return statement.group_by(column).subquery()


async def shapes(app: App) -> dict[Shape, tuple[str, str]]:
    """Each contract shape there is, with the first contract of that shape by ref: its
    ref and its owner."""
    parts = {
        "milestones": _counts(MilestoneRow.contract_id),
        "attempts": _counts(
            ReminderRow.contract_id,
            (DeliveryAttemptRow, DeliveryAttemptRow.reminder_id == ReminderRow.id),
        ),
        "changes": _counts(EventRow.contract_id),
        "funding": _counts(FundingRow.contract_id, where=FundingRow.removed_at.is_(None)),
        "costs": _counts(CostRow.contract_id, where=CostRow.removed_at.is_(None)),
    }
    statement = (
        select(
            ContractRow.ref,
            ContractRow.owner,
            *(func.coalesce(part.c.n, 0).label(name) for name, part in parts.items()),
        )
        .where(ContractRow.owner.is_not(None))
        .order_by(ContractRow.ref.desc())
    )
    for part in parts.values():
        statement = statement.outerjoin(part, part.c.contract_id == ContractRow.id)
    async with app.session() as session:
        rows = (await session.execute(statement)).all()
    # Last by ref first, so the first by ref of each shape is the one kept.
    return {
        Shape(r.milestones, r.attempts, r.changes, r.funding + r.costs): (r.ref, r.owner)
        for r in rows
    }


def nearest(shapes: Iterable[Shape], target: Shape) -> Shape:
    return min(shapes, key=lambda shape: (shape.distance(target), astuple(shape)))


def _app(url: str) -> App:
    return App(settings=Settings(), policy=load_policy(), now=DEFAULT_NOW, database_url=url)


def fill(url: str, contracts: int) -> None:
    """bench/generate.py in a child process: ``contracts`` contracts into ``url``."""
    script = Path(__file__).resolve().parent / "generate.py"
    argv = [sys.executable, str(script), "--contracts", str(contracts), "--db", url]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Compared:
    """Median seconds per page at each size, the median of the runs' large/small ratios,
    and whose pages they were."""

    small: dict[str, float]
    large: dict[str, float]
    ratio: dict[str, float]
    subjects: tuple[Subject, ...]


async def _subjects(small: App, large: App) -> tuple[tuple[Subject, ...], tuple[Subject, ...]]:
    """Whose pages are timed at (small, large): like for like, and the busiest person."""
    found = await shapes(small), await shapes(large)
    both = found[0].keys() & found[1].keys()
    # The shape nearest SHAPE that contracts at both sizes have (at the smoke test's
    # sizes there may be none: then the larger size's nearest to the smaller's).
    shape = nearest(both or found[0], SHAPE)
    like = []
    for app, contracts in zip((small, large), found, strict=True):
        shape = shape if shape in contracts else nearest(contracts, shape)
        ref, owner = contracts[shape]
        like.append(Subject(await involved_in(app, INVOLVED), ref, owner, shape))
    busy = []
    for app in (small, large):
        person = (await busiest(app, 1))[0]
        busy.append(Subject(person, person.refs[0], person.email))
    return tuple(like), tuple(busy)


async def _alternated(
    apps: tuple[App, App], subjects: tuple[Subject, ...], repeat: int
) -> Compared:
    """Each page at both sizes, alternately (A B B A ...), ``repeat`` times after a warm-up."""
    times: list[dict[str, list[float]]] = [{page: [] for page in READS} for _ in apps]
    for which in (0, 1):
        for read in READS.values():
            await read(apps[which], subjects[which])
    for n in range(repeat):
        for page, read in READS.items():
            for which in (0, 1) if n % 2 == 0 else (1, 0):
                began = time.perf_counter()
                await read(apps[which], subjects[which])
                times[which][page].append(time.perf_counter() - began)
    medians = [{page: statistics.median(t) for page, t in each.items()} for each in times]
    # Each run's two timings are back to back, so its ratio is little moved by other work
    # on the machine, which moves both.
    ratios = {
        page: statistics.median(b / a for a, b in zip(times[0][page], times[1][page], strict=True))
        for page in READS
    }
    return Compared(medians[0], medians[1], ratios, subjects)


async def in_process(small_url: str, large_url: str, repeat: int) -> tuple[Compared, Compared]:
    """(like for like, busiest person): each page's read timed at both sizes."""
    apps = (_app(small_url), _app(large_url))
    try:
        like, busy = await _subjects(*apps)
        return await _alternated(apps, like, repeat), await _alternated(apps, busy, repeat)
    finally:
        for app in apps:
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
    served = start_serve(url, env, directory, port=port, now=SERVER_NOW, workers=size.workers)
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


def _who(subjects: tuple[Subject, ...], size: Size) -> list[str]:
    small, large = subjects
    lines = [
        f"  home, register: {small.person.email} in {small.person.involved} contracts at "
        f"{size.small:,}; {large.person.email} in {large.person.involved} at {size.large:,}"
    ]
    if small.shape is not None and large.shape is not None:
        same = "the same shape" if small.shape == large.shape else str(large.shape)
        lines.append(
            f"  contract: {small.ref} ({small.shape}) at {size.small:,}; {large.ref} "
            f"({same}) at {size.large:,}"
        )
    else:
        lines.append(f"  contract: {small.ref} at {size.small:,}; {large.ref} at {size.large:,}")
    return lines


def print_in_process(size: Size, like: Compared, busy: Compared) -> None:
    print(
        f"In process, median of {size.repeat} runs, the two sizes alternated "
        "(ratio: the median of each run's large/small)"
    )
    for title, compared, target in (
        ("Like for like (the same workload at both sizes)", like, True),
        ("Busiest person (information: a bigger workload at the larger size)", busy, False),
    ):
        print(f"\n{title}")
        print("\n".join(_who(compared.subjects, size)))
        head = f"{'page':<10}{size.small:>10,} c.{size.large:>10,} c.{'ratio':>8}"
        print(head + ("   target <= 1.5" if target else ""))
        for page, small in compared.small.items():
            large, ratio = compared.large[page], compared.ratio[page]
            verdict = ("   PASS" if ratio <= 1.5 else "   MISS") if target else ""
            print(
                f"{page:<10}{small * 1000:>10.1f} ms{large * 1000:>10.1f} ms{ratio:>8.2f}{verdict}"
            )


def print_load(size: Size, people: list[Person], load: Load) -> None:
    done = sum(len(t) for t in load.latencies.values())
    print(
        f"\nHTTP on loopback: tracker serve --workers {size.workers} on {size.large:,} "
        f"contracts, {size.clients} "
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
    names = ("small", "large", "repeat", "clients", "requests", "workers")
    for name in names:
        parser.add_argument(f"--{name}", type=int, help=f"override the size's {name}")
    args = parser.parse_args()
    chosen = {n: getattr(args, n) for n in names}
    size = replace(SIZES[args.size], **{n: v for n, v in chosen.items() if v is not None})
    return size, args.mode


def main() -> int:
    size, mode = _arguments()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        large_url = sqlite_url(directory / f"pages-{size.large}.db")
        fill(large_url, size.large)
        if mode != "http":
            small_url = sqlite_url(directory / f"pages-{size.small}.db")
            fill(small_url, size.small)
            like, busy = asyncio.run(in_process(small_url, large_url, size.repeat))
            print_in_process(size, like, busy)
        if mode != "inprocess":
            people, load = over_http(large_url, directory, size)
            print_load(size, people, load)
            if load.errors:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
