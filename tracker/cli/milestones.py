"""``tracker milestone add|done|cancel``: manual milestones and closing decisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import typer

from tracker.cli.common import parse_options, run_with_app
from tracker.cli.options import (
    flag_option,
    kind_argument,
    note_option,
    ref_argument,
    sub_app,
    target_argument,
    value_option,
)

if TYPE_CHECKING:
    from tracker.domain.types import MilestoneKind

group = sub_app(
    "milestone",
    "Add manual milestones and close decisions.\n\nExample: tracker milestone done LANCS-DRIVE extension_notice --note 'Decision 20/2024'",
)


_AFTER_HELP = "Count working days from this date (e.g. a decision date)."
_BEFORE_HELP = "change_notice: the day the contract is to be modified."
_STANDSTILL_HELP = "change_notice: with the voluntary standstill (8 working days before)."
_WORKING_DAYS_HELP = "Working days after --after (England and Wales bank holidays excluded)."


@group.command("add")
def add(
    ctx: typer.Context,
    ref: str = ref_argument(),
    kind: str = typer.Argument(
        ...,
        help=(
            "procurement, publication, grant_agreement, review, custom, funding_confirmation "
            "or change_notice."
        ),
    ),
    date: str | None = typer.Argument(
        None, metavar="[DATE]", help="Due date (or use --after with --working-days)."
    ),
    title: str | None = typer.Option(None, "--title", help="What must happen."),
    note: str | None = note_option("Free text kept with it."),
    after: str | None = value_option("--after", "DATE", _AFTER_HELP),
    working_days: str | None = value_option("--working-days", "N", _WORKING_DAYS_HELP),
    before: str | None = value_option("--before", "DATE", _BEFORE_HELP),
    standstill: bool = flag_option("--standstill", _STANDSTILL_HELP),
) -> None:
    """Add a manual milestone (kept when derived milestones are recomputed).

    A publication milestone can be given as N working days after a date. A change_notice
    (Procurement Act 2023 s.75) is given by the day of the modification (--before): due
    the working day before, or 8 working days before with the voluntary standstill.

    Example: tracker milestone add ACT-1 change_notice --before 13/5/2025 --standstill

    Example: tracker milestone add LANCS-DRIVE publication --after 2/9/2024 --working-days 3 --title "Publish decision 20/2024"
    """
    from tracker.service.contracts import add_milestone
    from tracker.service.registers.inputs import parse_milestone

    values: dict[str, object] = {
        "kind": kind,
        "due": date,
        "title": title,
        "note": note,
        "after": after,
    }
    values["working_days"] = working_days
    values |= {"before": before, "standstill": standstill or None}
    milestone = parse_options(
        lambda raw: parse_milestone(raw, ""), values, names={"due": "DATE", "kind": "KIND"}
    )
    typer.echo(run_with_app(ctx, lambda app: add_milestone(app, ref, milestone)))


def _target(target: str, kind: str | None) -> tuple[str | None, MilestoneKind | None, int | None]:
    """``REF KIND`` or a milestone ``ID`` alone, as (ref, kind, id)."""
    from tracker.errors import InvalidValue
    from tracker.service.registers.inputs import parse_kind

    if kind is not None:
        return target, parse_kind(kind, "KIND"), None
    if not target.isdigit():
        raise InvalidValue("KIND", "", "is required after the ref (or give a milestone id alone)")
    return None, None, int(target)


def _act(
    ctx: typer.Context,
    which: tuple[str, str | None, str | None],
    action: Callable[..., Awaitable[str]],
    more: Callable[[], dict[str, Any]],
) -> None:
    """Run ``action`` on the milestone that ``which`` (target, kind, note) names; print its message.

    Inputs are checked in the order the user reads them: the target, then ``more``
    (the command's own options), then the note.
    """
    from tracker.domain.text import parse_optional_text

    target, kind, note = which
    ref, parsed_kind, milestone_id = _target(target, kind)
    extra = more()
    clean_note = parse_optional_text(note, "--note", max_length=2000)
    keys = {"ref": ref, "kind": parsed_kind, "milestone_id": milestone_id, "note": clean_note}
    typer.echo(run_with_app(ctx, lambda app: action(app, **keys, **extra)))


def _closing_command(name: str, *, done: bool, kind_help: str, note_help: str, doc: str) -> None:
    """Declare ``milestone done`` or ``milestone cancel``: one command, two outcomes.

    They take the same target, kind and note; only the helps and the status differ.
    """

    def close(
        ctx: typer.Context,
        target: str = target_argument(),
        kind: str | None = kind_argument(kind_help),
        note: str | None = note_option(note_help),
    ) -> None:
        from tracker.domain.types import MilestoneStatus
        from tracker.service.milestones import close_milestone

        status = MilestoneStatus.DONE if done else MilestoneStatus.CANCELLED
        _act(ctx, (target, kind, note), close_milestone, lambda: {"status": status})

    group.command(name, help=doc)(close)


_closing_command(
    "done",
    done=True,
    kind_help="The milestone kind, e.g. extension_notice.",
    note_help="The decision taken, e.g. 'Decision 20/2024 approved'.",
    doc="""Mark a decision done: its reminders stop and the note is kept as the record.

    Example: tracker milestone done LANCS-DRIVE extension_notice --note "Decision 20/2024"

    Example: tracker milestone done 42
    """,
)
_closing_command(
    "cancel",
    done=False,
    kind_help="The milestone kind.",
    note_help="Why it no longer applies.",
    doc="""Cancel a milestone that no longer applies (kept in the history, never deleted).

    Example: tracker milestone cancel LANCS-DRIVE review --note "Superseded by the re-procurement"
    """,
)


@group.command("snooze")
def snooze(
    ctx: typer.Context,
    target: str = target_argument(),
    kind: str | None = kind_argument(),
    until: str = value_option(
        "--until", "DATE", "Hold reminders and nags until this day.", required=True
    ),
    note: str | None = note_option("Why, e.g. 'waiting for the Home Office letter'."),
) -> None:
    """Hold a milestone's reminders and nags until a day; the due date does not move.

    The digest still lists it, marked snoozed, with the note.

    Example: tracker milestone snooze LANCS-DRIVE funding_confirmation --until 15/1/2025 --note "waiting for the Home Office letter"
    """
    from tracker.domain.dates import parse_date
    from tracker.service.milestones import snooze_milestone

    def day() -> dict[str, Any]:
        return {"until": parse_date(until, "--until")}

    _act(ctx, (target, kind, note), snooze_milestone, day)
