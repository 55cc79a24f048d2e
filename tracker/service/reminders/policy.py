"""A contract's reminder policy for a milestone kind: the defaults with its own overrides."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.domain.reminders import ReminderPolicy
from tracker.domain.types import MilestoneKind
from tracker.policy import Policy
from tracker.store.models import ContractPolicyRow


def contract_policy(
    policy: Policy, overrides: Sequence[ContractPolicyRow], kind: MilestoneKind
) -> ReminderPolicy:
    """The default policy for the kind, with the contract's own overrides applied."""
    base = policy.reminder_rule(kind)
    override = next((p for p in overrides if p.kind == kind.value), None)
    if override is None:
        return base
    leads = (
        tuple(sorted({int(v) for v in override.leads.split(",") if v}, reverse=True))
        if override.leads is not None
        else base.leads
    )
    return ReminderPolicy(
        leads=leads,
        escalate_from=base.escalate_from
        if override.escalate_from is None
        else override.escalate_from,
        nag_days=base.nag_days if override.nag_days is None else override.nag_days,
    )
