"""``tracker import``'s screen: a progress bar on a terminal, then a short summary.

The bar is drawn only when stdout is a terminal and no ``--json`` was asked for, so
scripts and pipes get the summary alone. The summary names the first few refs and
counts the rest ("and 9,990 more"), never 10,000 refs on one line.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tracker.service.registers.update import ContractUpdate, ImportResult

#: How many refs a summary names before counting the rest.
SHOWN_REFS = 5


def some_refs(refs: Sequence[str]) -> str:
    """``A, B, C, D, E and 9,995 more``."""
    named = ", ".join(refs[:SHOWN_REFS])
    rest = len(refs) - SHOWN_REFS
    return f"{named} and {rest:,} more" if rest > 0 else named


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off for one import, back on after.

    An import holds millions of objects at once (the parsed file, each batch's rows);
    every full collection walks them all and finds nothing, since they are freed by
    reference counting. Paused, the 10,000-contract import spends about a tenth less
    CPU. A command is one process and one import, so nothing else waits on it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def progress_bar(total: int, *, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar over ``total`` contracts, or None (piped output, ``--json``)."""
    if quiet or not sys.stdout.isatty() or total < 2:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("Importing", *columns, transient=True) as bar:
        task = bar.add_task("import", total=total)
        yield lambda done: bar.advance(task, done)


def _update_lines(update: ContractUpdate) -> list[str]:
    lines = [f"{update.ref}:"]
    lines += [f"  {c.field}: {c.old} -> {c.new}" for c in update.changes]
    lines += [f"  milestone {effect}" for effect in update.milestones]
    return lines


def print_summary(result: ImportResult, *, json: bool) -> None:
    """What the import did (or would do, with ``--dry-run``)."""
    if json:
        from tracker.cli.output import print_json

        print_json(result)
        return
    for update in result.updated:
        for line in _update_lines(update):
            typer.echo(line)
    verb = "Would import" if result.dry_run else "Imported"
    added = f"{len(result.added):,} contracts ({result.milestones:,} milestones)"
    if not (result.updated or result.unchanged):
        line = f"{verb} {added}: {some_refs(result.added)}."
    else:
        line = f"{verb} {added}, updated {len(result.updated):,}, {result.unchanged:,} unchanged."
        if result.added:
            line += f" Added: {some_refs(result.added)}."
        if result.updated:
            line += f" Updated: {some_refs([u.ref for u in result.updated])}."
    if result.dry_run:
        line += " Nothing written (--dry-run)."
    typer.echo(line)
