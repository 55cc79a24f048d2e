"""A contract's reminder policy for a milestone kind: the defaults with its own overrides."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.domain.reminders import ReminderPolicy, normalise_leads
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
    leads = base.leads
    if override.leads is not None:  # stored as "120,60,30"
        leads = normalise_leads(int(v) for v in override.leads.split(",") if v)
    escalate_from = base.escalate_from
    if override.escalate_from is not None:
        escalate_from = override.escalate_from
    nag_days = base.nag_days if override.nag_days is None else override.nag_days
    max_nags = base.max_nags if override.max_nags is None else override.max_nags
    return ReminderPolicy(
        leads=leads, escalate_from=escalate_from, nag_days=nag_days, max_nags=max_nags
    )
