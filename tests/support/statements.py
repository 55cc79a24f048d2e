"""The SQL statements an app's engine runs inside a block: one listener for the tests
that count a page's or a batch's statements, check their plans, or look for updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tracker.service.app import App


def first_word(*words: str) -> Callable[[str], bool]:
    """Statements that start with one of ``words`` (``first_word("SELECT")``)."""
    wanted = tuple(word.upper() for word in words)
    return lambda statement: statement.lstrip().upper().startswith(wanted)


def not_begin(statement: str) -> bool:
    """Anything but SQLite's BEGIN IMMEDIATE (tracker.store.engine): a transaction, not a
    query."""
    return not statement.startswith("BEGIN")


@contextmanager
def statements_run(
    app: App, keep: Callable[[str], bool] = lambda _: True
) -> Iterator[list[tuple[str, Any]]]:
    """Each statement ``keep`` accepts, with its parameters, in the order they ran."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if keep(statement):
            seen.append((statement, params))

    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def short(seen: list[tuple[str, Any]], width: int = 120) -> list[str]:
    """The statements on one line each, cut to ``width``: readable in a failed assert."""
    return [" ".join(statement.split())[:width] for statement, _ in seen]
