"""The policy: defaults from ``config/policy.toml`` merged with the user's ``[policy]``.

Kept apart from settings because it is domain data (lead days, windows) that tests
and ``tracker simulate --policy`` swap wholesale, while settings are about the machine.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from tracker.domain.digest import FREQUENCIES, WEEKDAYS, Schedule, parse_time
from tracker.domain.reminders import ReminderPolicy, normalise_leads
from tracker.domain.types import DerivationRules, MilestoneKind
from tracker.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class DigestPolicy:
    """``[digest]``: everyone's schedule unless they set their own, and whether a digest
    with nothing to report is sent anyway. Parsed when the policy loads, so a mistake
    is one line at start-up rather than a failure at the first digest run."""

    schedule: Schedule
    send_empty: bool


@dataclass(frozen=True, kw_only=True)
class Policy:
    derivation: DerivationRules
    reminders: dict[MilestoneKind, ReminderPolicy]
    digest: DigestPolicy

    def reminder_rule(self, kind: MilestoneKind) -> ReminderPolicy:
        """When to remind about one milestone kind (leads, escalation, nags)."""
        return self.reminders[kind]


def default_policy_data() -> dict[str, Any]:
    text = files("tracker.config").joinpath("policy.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"policy {name}: {value!r} must be a whole number >= {minimum}")
    return value


def _reminder_rule(data: dict[str, Any], name: str) -> ReminderPolicy:
    leads = data.get("leads", [])
    if not isinstance(leads, list):
        raise ConfigError(f"policy {name}.leads: {leads!r} must be a list of days")
    parsed = normalise_leads(_int(v, f"{name}.leads") for v in leads)
    return ReminderPolicy(
        leads=parsed,
        escalate_from=_int(data.get("escalate_from", 0), f"{name}.escalate_from"),
        nag_days=_int(data.get("nag_days", 0), f"{name}.nag_days"),
        max_nags=_int(data.get("max_nags"), f"{name}.max_nags", 1),
    )


def _digest_policy(data: dict[str, Any]) -> DigestPolicy:
    """The ``[digest]`` table, checked: frequency, weekday, time (HH:MM) and send_empty."""
    frequency = str(data.get("frequency", "weekly"))
    weekday = str(data.get("weekday", "monday")).lower()
    if frequency not in FREQUENCIES or weekday not in WEEKDAYS:
        raise ConfigError(
            f"policy digest: frequency {frequency!r} / weekday {weekday!r} not understood"
        )
    try:
        at = parse_time(str(data.get("time", "08:00")))
    except ValueError:
        raise ConfigError(f"policy digest.time: {data.get('time')!r} is not HH:MM") from None
    send_empty = data.get("send_empty", False)
    if not isinstance(send_empty, bool):
        raise ConfigError(f"policy digest.send_empty: {send_empty!r} must be true or false")
    schedule = Schedule(frequency=frequency, weekday=weekday, at=at)
    return DigestPolicy(schedule=schedule, send_empty=send_empty)


def build_policy(data: dict[str, Any]) -> Policy:
    """Validate a merged policy table; unknown milestone kinds are an error, not ignored."""
    derivation = data.get("derivation", {})
    rules = DerivationRules(
        staffing_risk_months=_int(
            derivation.get("staffing_risk_months", 9), "derivation.staffing_risk_months", 1
        ),
        funding_lead_days=_int(
            derivation.get("funding_lead_days", 60), "derivation.funding_lead_days"
        ),
    )
    reminder_data: dict[str, Any] = data.get("reminders", {})
    default = reminder_data.get("default", {})
    known = {kind.value for kind in MilestoneKind}
    for name in reminder_data:
        if name != "default" and name not in known:
            raise ConfigError(f"policy reminders.{name}: not a milestone kind")
    reminders = {
        kind: _reminder_rule(_merge(default, reminder_data.get(kind.value, {})), kind.value)
        for kind in MilestoneKind
    }
    return Policy(
        derivation=rules, reminders=reminders, digest=_digest_policy(data.get("digest", {}))
    )


def load_policy(user_overrides: dict[str, Any] | None = None, file: Path | None = None) -> Policy:
    """Defaults, then a policy file (``simulate --policy``), then the settings' [policy]."""
    data = default_policy_data()
    if file is not None:
        try:
            data = _merge(data, tomllib.loads(file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"policy file {str(file)!r}: {exc}") from None
    if user_overrides:
        data = _merge(data, user_overrides)
    return build_policy(data)
