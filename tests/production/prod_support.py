"""Constants and data of the production tests (imported by conftest.py and the test
modules); the process, PostgreSQL and SMTP helpers are in tests/support."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from support.people import OLIVIA, STEVE

#: The scenario's roles: Olivia owns every contract, Steve sponsors it.
OWNER = OLIVIA
SPONSOR = STEVE
#: Import time, and the sweep time at which 2,000 messages are due: every lead from 90 to
#: 7 days of decisions due Monday 10 March 2025 has passed, collapsing into the 7-day
#: lead, which (7 <= escalation lead 14) goes to owner and sponsor.
IMPORTED_AT = "2024-12-01 10:00"
T = "2025-03-03 09:00"
DUE_ON = date(2025, 3, 10)
#: Decision kinds with the default policy (leads 90..1, sponsor copied from 14 days).
KINDS = ("procurement", "review", "custom", "grant_agreement")
#: 125 contracts x 8 decisions (each kind twice) x owner and sponsor. (Fewer contracts
#: with more decisions each: the same 2,000 messages, a quarter of the import time.)
CONTRACTS = 125
PER_KIND = 2
DUE_COUNT = CONTRACTS * len(KINDS) * PER_KIND * 2
assert DUE_COUNT == 2000


def contracts_yaml(
    path: Path, count: int, due: date, *, per_kind: int = PER_KIND, prefix: str = "PROD"
) -> Path:
    """``count`` contracts (olivia owns, steve sponsors), each with ``per_kind`` manual
    decisions of every kind in :data:`KINDS`, all due on ``due``."""
    lines = ["contracts:"]
    for n in range(count):
        lines += [
            f"  - ref: {prefix}/{n:04d}",
            f"    title: Victim services lot {n}",
            "    provider: Safer Futures CIC",
            "    start: 2024-04-01",
            "    end: 2030-03-31",
            "    value: 120000",
            f"    owner: {OWNER}",
            f"    sponsor: {SPONSOR}",
            "    milestones:",
            *(
                f"      - {{kind: {kind}, due: {due.isoformat()}, title: {kind} {i} of lot {n}}}"
                for kind in KINDS
                for i in range(1, per_kind + 1)
            ),
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
