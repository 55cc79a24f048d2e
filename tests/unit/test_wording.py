"""The commands and labels every email and the CLI print are one wording, ready to paste."""

from __future__ import annotations

import shlex
from datetime import date

from tracker.domain.types import MilestoneKind
from tracker.domain.wording import (
    close_command,
    decision_link_label,
    kind_label,
    snooze_command,
)


def test_kind_label() -> None:
    assert kind_label(MilestoneKind.EXTENSION_NOTICE) == "Extension notice"
    assert kind_label(MilestoneKind.FUNDING_CONFIRMATION) == "Funding confirmation"


def test_close_command_by_ref_and_kind_or_by_id_when_ambiguous() -> None:
    kind = MilestoneKind.REVIEW
    assert close_command("LANCS-DRIVE", kind, 7, ambiguous=False) == (
        "tracker milestone done LANCS-DRIVE review"
    )
    assert close_command("LANCS-DRIVE", kind, 7, ambiguous=True) == "tracker milestone done 7"


def test_snooze_command_names_a_real_day_a_week_ahead() -> None:
    command = snooze_command("LANCS-DRIVE", MilestoneKind.REVIEW, today=date(2024, 12, 28))
    assert command == (
        'tracker milestone snooze LANCS-DRIVE review --until 2025-01-04 --note "why"'
    )


def test_commands_quote_a_ref_the_shell_would_split() -> None:
    ref = "WM 'DA' 1"
    for command in (
        close_command(ref, MilestoneKind.REVIEW, 1, ambiguous=False),
        snooze_command(ref, MilestoneKind.REVIEW, today=date(2024, 1, 1)),
    ):
        assert shlex.split(command)[3] == ref


def test_decision_link_label() -> None:
    assert decision_link_label("20/2024", "Extension") == "Decision 20/2024: Extension"
    assert decision_link_label("20/2024", None) == "Decision 20/2024"
    assert decision_link_label("20/2024", "") == "Decision 20/2024"
