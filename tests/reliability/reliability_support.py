"""Helpers of the reliability suite only (imported by conftest.py and the test modules);
what other directories use too is in tests/support.

``FIGURES`` collects what the suite did; the terminal summary prints it as one line.
Each figure means what it says:

* faults are counted when they *happened* (the server sent the fault reply or hung up,
  the process was killed, the command answered with the error), from evidence gathered
  after the fact -- never when a test merely planned one;
* "delivered" counts only the Message-IDs of the reminders a test *expected* (named by
  contract, kind, recipient and lead), as seen on the wire (the test server or the outbox
  folder), so an unexpected extra send cannot hide a lost one: extras are "unexpected",
  and "lost" is expected but never received;
* a duplicate on the wire (one Message-ID received twice: legitimate after a crash, since
  SMTP delivery is at least once) is counted apart from a duplicate in the database (one
  Message-ID recorded sent twice: always a bug).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from support.people import OLIVIA, STEVE
from support.smtp import parse_message

# ------------------------------------------------------------------------------ figures


@dataclass(frozen=True)
class Tally:
    """What came of one scenario's messages (see the module docstring)."""

    expected: int
    delivered: int
    lost: int
    unexpected: int
    duplicated_on_wire: int
    duplicated_in_db: int

    @classmethod
    def clean(cls, expected: int, *, duplicated_on_wire: int = 0) -> Tally:
        """A scenario where all ``expected`` messages arrived, nothing else did, and the
        database recorded each once (``duplicated_on_wire``: resends the scenario provokes
        on purpose, e.g. a crash between the server's 250 and the database's record)."""
        return cls(expected, expected, 0, 0, duplicated_on_wire, 0)


@dataclass
class Figures:
    """What the reliability suite tried and what came of it (printed at the end)."""

    inputs_tried: int = 0
    faults_happened: int = 0
    messages_expected: int = 0
    delivered: int = 0
    lost: int = 0
    unexpected: int = 0
    duplicated_on_wire: int = 0
    duplicated_in_db: int = 0
    used: bool = False

    def inputs(self, n: int = 1) -> None:
        self.used = True
        self.inputs_tried += n

    def faults(self, *, happened: int) -> None:
        """Count faults that *happened*: ``happened`` is evidence read after the fact
        (replies the server sent, connections it cut, errors the command printed)."""
        assert happened >= 0, happened
        self.used = True
        self.faults_happened += happened

    def messages(self, tally: Tally) -> None:
        self.used = True
        self.messages_expected += tally.expected
        self.delivered += tally.delivered
        self.lost += tally.lost
        self.unexpected += tally.unexpected
        self.duplicated_on_wire += tally.duplicated_on_wire
        self.duplicated_in_db += tally.duplicated_in_db

    def line(self) -> str:
        return (
            f"reliability: inputs tried {self.inputs_tried}, faults injected "
            f"{self.faults_happened} (happened), messages expected {self.messages_expected}, "
            f"delivered {self.delivered}, lost {self.lost}, unexpected {self.unexpected}, "
            f"duplicated on the wire {self.duplicated_on_wire}, "
            f"duplicated in the database {self.duplicated_in_db}"
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


def recorded_twice(db_path: Path) -> int:
    """Message-IDs the database recorded sent more than once: two 'sent' attempts of one
    reminder, or two reminder rows with one Message-ID both in status 'sent'."""
    with sqlite3.connect(db_path) as db:
        attempts = db.execute(
            "SELECT r.message_id, COUNT(a.id) FROM reminders r JOIN delivery_attempts a"
            " ON a.reminder_id = r.id AND a.outcome = 'sent' GROUP BY r.message_id"
        ).fetchall()
        rows = db.execute(
            "SELECT message_id, COUNT(*) FROM reminders WHERE status = 'sent' GROUP BY message_id"
        ).fetchall()
    twice = {mid for mid, n in attempts if n > 1} | {mid for mid, n in rows if n > 1}
    return len(twice)


#: A reminder a test expects: (contract ref, milestone kind, recipient, lead in days).
Expected = tuple[str, str, str, int]


def expected_ids(db_path: Path, expected: Iterable[Expected]) -> set[str]:
    """The Message-IDs of the reminders the test names, one row each (looked up by what
    the test knows, not by which reminders the code thinks are due)."""
    ids: set[str] = set()
    with sqlite3.connect(db_path) as db:
        for ref, kind, recipient, lead in expected:
            rows = db.execute(
                "SELECT r.message_id FROM reminders r JOIN milestones m ON m.id = r.milestone_id"
                " JOIN contracts c ON c.id = r.contract_id"
                " WHERE c.ref = ? AND m.kind = ? AND r.recipient = ? AND r.lead = ?",
                (ref, kind, recipient, lead),
            ).fetchall()
            assert len(rows) == 1, ((ref, kind, recipient, lead), rows)
            ids.add(str(rows[0][0]))
    return ids


def outbox_ids(folder: Path) -> list[str]:
    """The Message-IDs of the ``.eml`` files in an outbox folder (its "wire")."""
    return [
        str(parse_message(path.read_bytes()).get("Message-ID", "")).strip()
        for path in sorted(folder.glob("*.eml"))
    ]


def tally(expected: Collection[str], wire: Sequence[str], db_path: Path) -> Tally:
    """One scenario's messages: ``expected`` Message-IDs against those received on the
    ``wire`` (every copy, in order) and the database's record."""
    received = Counter(wire)
    want = set(expected)
    assert len(want) == len(expected), "an expected Message-ID named twice"
    return Tally(
        expected=len(want),
        delivered=len(want & received.keys()),
        lost=len(want - received.keys()),
        unexpected=len(received.keys() - want),
        duplicated_on_wire=sum(1 for n in received.values() if n > 1),
        duplicated_in_db=recorded_twice(db_path),
    )


def account(db_path: Path, *, expected: Collection[str], wire: Sequence[str]) -> Tally:
    """Add one scenario to the figures; returns its tally for the test to assert."""
    result = tally(expected, wire, db_path)
    FIGURES.messages(result)
    return result


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
