"""A register of 25 contracts for the register, funding and deliveries page tests,
imported through the real CLI, and a real ``tracker serve`` over it.

Contract ``i`` (1-25), ``REG-0ii``:
* owner alice (i % 3 == 0), bob (i % 3 == 1) or carol (i % 3 == 2); dave sponsors
  1-5 (over owners alice, bob and carol); erin watches REG-007 only;
* commissioner North (even i) or South (odd i);
* ends 30 * i days after 1 Oct 2024;
* even i: 2025/26 costs £1,000 x i with £900 x i confirmed, a gap of £100 x i; odd i
  has no cost lines (gap unknown, sorted last);
* i % 5 == 0: £10 x (100 - i) expected in 2025/26 (money at risk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from support.cli import Result
from support.processes import clean_env, run_in_thread, run_tracker
from support.web import Served, run_sql, serve_port, start_serve, web_env

DOMAIN = "register.example.org"
ALICE, BOB, CAROL = (f"{name}@{DOMAIN}" for name in ("alice", "bob", "carol"))
DAVE, ERIN, ADMIN, NOBODY = (f"{name}@{DOMAIN}" for name in ("dave", "erin", "admin", "nobody"))
COUNT = 25
IMPORTED = "2024-09-02"
SERVER_NOW = "2024-09-16 10:00"
TODAY = date(2024, 9, 16)


def ref(i: int) -> str:
    return f"REG-{i:03d}"


def owner(i: int) -> str:
    return (ALICE, BOB, CAROL)[i % 3]


def end(i: int) -> date:
    return date(2024, 10, 1) + timedelta(days=30 * i)


def gap(i: int) -> Decimal | None:
    return Decimal(100 * i) if i % 2 == 0 else None


def at_risk(i: int) -> Decimal:
    return Decimal(10 * (100 - i)) if i % 5 == 0 else Decimal(0)


def sees(person: str) -> set[int]:
    """The contracts ``person`` owns, sponsors or watches."""
    return {
        i
        for i in range(1, COUNT + 1)
        if owner(i) == person or (person == DAVE and i <= 5) or (person == ERIN and i == 7)
    }


def _record(i: int) -> dict[str, object]:
    record: dict[str, object] = {
        "ref": ref(i),
        "title": f"Service {i}" + (" (percent 100% and under_score)" if i == 13 else ""),
        "provider": "Acme Care Ltd" if i in (3, 4) else f"Provider {i}",
        "commissioner": "North" if i % 2 == 0 else "South",
        "start": "2024-04-01",
        "end": end(i).isoformat(),
        "owner": owner(i),
    }
    if i <= 5:
        record["sponsor"] = DAVE
    if i == 7:
        record["watchers"] = [ERIN]
    funding = []
    if i % 2 == 0:
        record["costs"] = [{"year": "2025/26", "category": "Staff", "amount": 1000 * i}]
        funding.append(
            {"source": "Grant", "year": "2025/26", "amount": 900 * i, "status": "confirmed"}
        )
    if i % 5 == 0:
        funding.append(
            {"source": "Partner", "year": "2025/26", "amount": 10 * (100 - i), "status": "expected"}
        )
    if funding:
        record["funding"] = funding
    return record


def write_register(path: Path, count: int = COUNT, first: int = 1) -> Path:
    """Contracts ``first`` to ``count`` as an import file."""
    records = [_record(i) for i in range(first, count + 1)]
    path.write_text(yaml.safe_dump({"contracts": records}))
    return path


@dataclass
class RegisterSite:
    url: str
    served: Served
    tracker: Callable[..., Result]
    env: dict[str, str]


def serve_register(db_url: str, tmp_path: Path, count: int = COUNT) -> Iterator[RegisterSite]:
    port = serve_port()
    env = web_env(clean_env(tmp_path, TRACKER_ADMINS=ADMIN), port)

    def tracker(*args: str, now: str | None = None) -> Result:
        result = run_tracker(db_url, *args, env=env, cwd=tmp_path, now=now)
        assert result.code == 0, result
        return result

    tracker("import", str(write_register(tmp_path / "register.yaml", count)), now=IMPORTED)
    served = start_serve(db_url, env, tmp_path, port=port, now=SERVER_NOW)
    try:
        yield RegisterSite(url=db_url, served=served, tracker=tracker, env=env)
    finally:
        served.stop()


def _write(url: str, statement: str) -> None:
    async def go() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    run_in_thread(go(), name="sql-write")


def fail_two_reminders(site: RegisterSite) -> None:
    """The first planned reminder failed for good, the second waits for a retry: what the
    sweep records after a 550 and after a greylisting 451 (written directly, as the
    delivery tests cover how the sweep gets there)."""
    ids = [row[0] for row in run_sql(site.url, "SELECT id FROM reminders ORDER BY id")]
    assert len(ids) >= 2, "the register should have planned reminders"
    _write(
        site.url,
        "UPDATE reminders SET status = 'failed', attempts = 1, "
        f"last_reply = '550 5.1.1 <x@{DOMAIN}>: no such user' WHERE id = {ids[0]}",
    )
    _write(
        site.url,
        "UPDATE reminders SET attempts = 2, "
        f"last_reply = '451 4.7.1 greylisted, try again later' WHERE id = {ids[1]}",
    )
