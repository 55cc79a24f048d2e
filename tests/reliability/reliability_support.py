"""Helpers of the reliability suite only (imported by conftest.py and the test modules);
what other directories use too is in tests/support.

``FIGURES`` collects what the suite did; the terminal summary prints it as one line.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from support.people import OLIVIA, STEVE

# ------------------------------------------------------------------------------ figures


@dataclass
class Figures:
    """What the reliability suite tried and what came of it (printed at the end)."""

    inputs_tried: int = 0
    faults_injected: int = 0
    messages_expected: int = 0
    delivered: int = 0
    duplicated: int = 0
    lost: int = 0
    used: bool = False

    def inputs(self, n: int = 1) -> None:
        self.used = True
        self.inputs_tried += n

    def faults(self, n: int = 1) -> None:
        self.used = True
        self.faults_injected += n

    def messages(self, *, expected: int, delivered: int, duplicated: int) -> None:
        """Account for one scenario: ``delivered`` distinct reminders recorded sent
        (of ``expected``), ``duplicated`` reminders the database recorded sent twice."""
        self.used = True
        self.messages_expected += expected
        self.delivered += delivered
        self.duplicated += duplicated
        self.lost += max(0, expected - delivered)

    def line(self) -> str:
        return (
            f"reliability: inputs tried {self.inputs_tried}, faults injected "
            f"{self.faults_injected}, messages expected {self.messages_expected}, delivered "
            f"{self.delivered}, duplicated {self.duplicated}, lost {self.lost}"
        )


FIGURES = Figures()


def sent_per_reminder(db_path: Path) -> dict[int, int]:
    """reminder id -> number of 'sent' attempts the database recorded for it."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT r.id, COUNT(a.id) FROM reminders r LEFT JOIN delivery_attempts a"
            " ON a.reminder_id = r.id AND a.outcome = 'sent' GROUP BY r.id"
        ).fetchall()
    return {int(rid): int(n) for rid, n in rows}


def account(db_path: Path, expected: int) -> tuple[int, int]:
    """Add one scenario to the figures from the database; returns (delivered, duplicated)."""
    counts = sent_per_reminder(db_path)
    delivered = sum(1 for n in counts.values() if n >= 1)
    duplicated = sum(1 for n in counts.values() if n > 1)
    FIGURES.messages(expected=expected, delivered=delivered, duplicated=duplicated)
    return delivered, duplicated


# ------------------------------------------------------------ contracts due right now


def london_today() -> date:
    from tracker.domain.calendar import LONDON

    return datetime.now(LONDON).date()


def due_now_yaml(contracts: int, kinds: tuple[str, ...] = ("review",)) -> str:
    """Contracts whose manual decisions have a reminder due at the *real* time (for
    ``tracker run``, which takes no ``--now``): each decision is due in 20 days, with one
    lead of 30 days copying the sponsor, so its reminder went due ten days ago, once to
    the owner and once to the sponsor. Nothing derived is due for years."""
    today = london_today()
    due = today + timedelta(days=20)
    end = date(today.year + 6, 3, 31)
    policy = "".join(f"      {kind}: {{leads: [30], escalate_from: 30}}\n" for kind in kinds)
    lines = ["contracts:\n"]
    for n in range(contracts):
        milestones = "".join(
            f"      - {{kind: {kind}, due: {due.isoformat()}, title: {kind} {n}}}\n"
            for kind in kinds
        )
        lines.append(
            f"  - ref: DUE/{n:03d}\n"
            f"    title: Victim services lot {n}\n"
            "    provider: Safer Futures CIC\n"
            "    start: 2024-04-01\n"
            f"    end: {end.isoformat()}\n"
            f"    owner: {OLIVIA}\n"
            f"    sponsor: {STEVE}\n"
            "    policy:\n"
            f"{policy}"
            "    milestones:\n"
            f"{milestones}"
        )
    return "".join(lines)
