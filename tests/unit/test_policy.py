"""The policy is typed when it loads: a bad ``[digest]`` is one clear line at start-up."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.policy import load_policy


def test_the_default_digest_policy_is_monday_at_eight_and_no_empty_digests() -> None:
    digest = load_policy().digest
    assert digest.schedule.frequency == "weekly"
    assert digest.schedule.weekday == "monday"
    assert digest.schedule.at == time(8, 0)
    assert digest.send_empty is False


def test_the_user_s_digest_table_overrides_the_defaults() -> None:
    digest = load_policy(
        {"digest": {"frequency": "daily", "time": "07:30", "weekday": "Friday", "send_empty": True}}
    ).digest
    assert (digest.schedule.frequency, digest.schedule.weekday) == ("daily", "friday")
    assert digest.schedule.at == time(7, 30)
    assert digest.send_empty is True


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"frequency": "fortnightly"}, "policy digest: frequency 'fortnightly' / weekday"),
        ({"weekday": "someday"}, "weekday 'someday' not understood"),
        ({"time": "25:00"}, "policy digest.time: '25:00' is not HH:MM"),
        ({"time": "eight"}, "policy digest.time: 'eight' is not HH:MM"),
        ({"send_empty": "false"}, "policy digest.send_empty: 'false' must be true or false"),
    ],
)
def test_a_bad_digest_table_is_refused_when_the_policy_loads(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy({"digest": table})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_policy_file_s_digest_table_is_checked_too(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('[digest]\nfrequency = "hourly"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="frequency 'hourly'"):
        load_policy(file=file)


def test_nags_stop_after_four_by_default_and_per_kind_as_configured() -> None:
    from tracker.domain.types import MilestoneKind

    policy = load_policy({"reminders": {"publication": {"max_nags": 2}}})
    assert policy.reminder_rule(MilestoneKind.EXTENSION_NOTICE).max_nags == 4
    assert policy.reminder_rule(MilestoneKind.PUBLICATION).max_nags == 2
    with pytest.raises(ConfigError, match="max_nags: 0 must be a whole number >= 1"):
        load_policy({"reminders": {"default": {"max_nags": 0}}})
