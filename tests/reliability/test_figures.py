"""The reliability figures themselves: an unexpected extra send cannot hide a lost one,
and a resend on the wire is told apart from a double record in the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reliability_support import Figures, Tally, tally


def _db(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    """A database holding just what the figures read: (message_id, status, sent attempts)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE reminders (id INTEGER PRIMARY KEY, message_id TEXT, status TEXT)")
        db.execute(
            "CREATE TABLE delivery_attempts (id INTEGER PRIMARY KEY, reminder_id INT, outcome TEXT)"
        )
        for message_id, status, sent in rows:
            rid = db.execute(
                "INSERT INTO reminders (message_id, status) VALUES (?, ?)", (message_id, status)
            ).lastrowid
            db.executemany(
                "INSERT INTO delivery_attempts (reminder_id, outcome) VALUES (?, 'sent')",
                [(rid,)] * sent,
            )
    return path


def test_an_unexpected_send_does_not_hide_a_lost_one(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db", [("<a>", "sent", 1), ("<b>", "planned", 0), ("<x>", "sent", 1)])
    result = tally({"<a>", "<b>"}, ["<a>", "<x>"], db)
    assert result == Tally(
        expected=2, delivered=1, lost=1, unexpected=1, duplicated_on_wire=0, duplicated_in_db=0
    )
    assert result != Tally.clean(2)


def test_a_resend_on_the_wire_is_not_a_double_record(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db", [("<a>", "sent", 1), ("<b>", "sent", 1)])
    assert tally({"<a>", "<b>"}, ["<a>", "<b>", "<a>"], db) == Tally.clean(2, duplicated_on_wire=1)


def test_two_sent_attempts_or_two_sent_rows_are_doubles_in_the_database(tmp_path: Path) -> None:
    db = _db(tmp_path / "t.db", [("<a>", "sent", 2), ("<b>", "sent", 1), ("<b>", "sent", 1)])
    result = tally({"<a>", "<b>"}, ["<a>", "<b>"], db)
    assert (result.delivered, result.duplicated_on_wire, result.duplicated_in_db) == (2, 0, 2)


def test_the_line_names_every_figure() -> None:
    figures = Figures()
    figures.inputs(3)
    figures.faults(happened=2)
    figures.messages(Tally(4, 3, 1, 1, 1, 0))
    assert figures.line() == (
        "reliability: inputs tried 3, faults injected 2 (happened), messages expected 4, "
        "delivered 3, lost 1, unexpected 1, duplicated on the wire 1, "
        "duplicated in the database 0"
    )
