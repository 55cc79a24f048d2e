"""One exception per thing a user can get wrong, each carrying the message that user reads.

The CLI prints ``str(error)`` as one line on stderr and exits 1; nothing below the CLI
prints. Messages name the field and the offending value so the user can fix the input
without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


class TrackerError(Exception):
    """Base of every error the user caused or can fix; its text is shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _show(value: object) -> str:
    """Render a bad value so that control characters are visible and the line stays one line."""
    text = value if isinstance(value, str) else str(value)
    shown = repr(text)
    if len(shown) > 80:
        shown = shown[:77] + "...'"
    return shown


class InvalidValue(TrackerError):
    """A field's value cannot be accepted (a wrong date, negative money, a bad email...)."""

    def __init__(self, field: str, value: object, reason: str, *, where: str | None = None) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field}: {_show(value)} {reason}")

    def located(self, where: str) -> InvalidValue:
        """The same error, placed in a file or record (e.g. ``contracts.yaml line 12``)."""
        return InvalidValue(self.field, self.value, self.reason, where=where)


class UnknownContract(TrackerError):
    """A command named a contract ref that is not in the database."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"ref: {_show(ref)} is not a contract in this database")


class DuplicateContract(TrackerError):
    """A contract ref is already taken (refs are unique)."""

    def __init__(self, ref: str, *, where: str | None = None) -> None:
        self.ref = ref
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}ref: {_show(ref)} already exists")


class MilestoneNotFound(TrackerError):
    """No milestone matches the id, or the ref and kind, a command named."""

    def __init__(self, *, milestone_id: int | None = None, kind: str = "", ref: str = "") -> None:
        self.milestone_id = milestone_id
        self.kind = kind
        self.ref = ref
        if milestone_id is not None:
            super().__init__(f"milestone: {milestone_id} is not a milestone id in this database")
        else:
            super().__init__(f"kind: {kind!r} has no milestone on {ref}")


class AmbiguousMilestone(TrackerError):
    """Several open milestones match; the user must give the milestone id."""

    def __init__(self, *, kind: str, ref: str, choices: Sequence[tuple[int, date]]) -> None:
        self.kind = kind
        self.ref = ref
        self.ids = tuple(milestone_id for milestone_id, _ in choices)
        listed = ", ".join(
            f"{milestone_id} (due {due.isoformat()})" for milestone_id, due in choices
        )
        super().__init__(
            f"kind: {kind!r} matches {len(choices)} open milestones on {ref}: "
            f"give the id, one of {listed}"
        )


class InvalidOperation(TrackerError):
    """The request is well formed but not possible in the contract's state."""


class StaleChange(TrackerError):
    """A change was made on a read of the contract that another change has since outdated.

    ``meanwhile`` is the latest change's line, who made it and when, so the person can
    read it and decide again rather than silently overwrite it.
    """

    def __init__(self, ref: str, *, expected: int, current: int, meanwhile: str) -> None:
        self.ref = ref
        self.expected = expected
        self.current = current
        super().__init__(
            f"--if-version: {_show(ref)} is at version {current}, not {expected}; "
            f"changed meanwhile: {meanwhile}. Nothing written; look again and retry"
        )


class ImportFileError(TrackerError):
    """An import file cannot be read or parsed at all (missing, not YAML, too large)."""


class SchemaOutdated(TrackerError):
    """The database schema is older (or newer) than this tracker; ``tracker init`` fixes it.

    ``current`` is the database's revision (None: tables the tracker did not make).
    """

    def __init__(self, *, current: str | None, head: str, newer: bool = False) -> None:
        self.current = current
        self.head = head
        if newer:
            super().__init__(
                f"database schema revision {current} is newer than this tracker knows; "
                "upgrade the tracker"
            )
            return
        shown = current or "none (tables exist but were not made by the tracker)"
        super().__init__(
            f"database schema is at revision {shown}, this tracker needs {head}: "
            "run `tracker init` to upgrade it"
        )


class DatabaseUnavailable(TrackerError):
    """The database cannot be opened or reached.

    ``shown_url`` must already have its password hidden (``tracker.store.engine.redact``):
    the message is printed and logged as it is.
    """

    def __init__(self, shown_url: str, reason: str) -> None:
        self.shown_url = shown_url
        self.reason = reason
        super().__init__(f"database {shown_url}: {reason}")


class ConfigError(TrackerError):
    """The settings file or a TRACKER_* variable is invalid."""
