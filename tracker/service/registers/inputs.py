"""Turn raw input (CLI options or one YAML record) into validated contract data.

One parser serves ``tracker add`` and ``tracker import`` so both accept exactly the
same values and fail with the same one-line messages. Nothing here touches the
database: a whole file is parsed before anything is written (all or nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from tracker.domain.dates import (
    parse_date,
    parse_financial_year,
    parse_optional_date,
)
from tracker.domain.emails import parse_email, parse_email_list
from tracker.domain.milestones import publication_due
from tracker.domain.money import parse_money, parse_optional_money
from tracker.domain.procurement import change_notice_due
from tracker.domain.reminders import normalise_leads
from tracker.domain.text import (
    parse_optional_text,
    parse_positive_int,
    parse_text,
    parse_yes_no,
)
from tracker.domain.types import (
    MANUAL_KINDS,
    ContractHeading,
    EndReason,
    FinancialYear,
    FundingStatus,
    MilestoneKind,
    Regime,
)
from tracker.errors import InvalidValue

T = TypeVar("T")


@dataclass(frozen=True)
class ExtensionInput:
    """An extension option as typed: its new end, and notice as days before or a date."""

    until: date
    notice_days: int | None
    notice_by: date | None


@dataclass(frozen=True)
class FundingInput:
    """A funding line as typed; its status decides whether it is secured or at risk."""

    source: str
    year: FinancialYear
    amount: Decimal
    status: FundingStatus
    confirm_by: date | None
    #: ``F3``: the stored line this one is (``import --update`` matches by it; without
    #: it, by financial year and source).
    id: str | None = None
    #: Whether the file said the status (``import --update`` leaves a stored line's
    #: status alone when it did not: a missing field is not "expected").
    status_given: bool = True


@dataclass(frozen=True)
class CostInput:
    """A cost line as typed: what one financial year costs, by category."""

    year: FinancialYear
    amount: Decimal
    category: str
    #: ``C7``: the stored line this one is (``import --update`` matches by it; without
    #: it, by financial year and category).
    id: str | None = None


@dataclass(frozen=True)
class MilestoneInput:
    """A manual milestone as typed: a due date, or working days after a date."""

    kind: MilestoneKind
    due: date
    title: str | None
    note: str | None


@dataclass(frozen=True)
class PolicyInput:
    """A contract's own reminder policy for one kind; None keeps the default."""

    kind: MilestoneKind
    leads: tuple[int, ...] | None
    escalate_from: int | None
    nag_days: int | None
    max_nags: int | None = None


@dataclass(frozen=True)
class DecisionInput:
    """A decision record as typed; its publication deadline is derived from it."""

    ref: str
    decided_on: date
    url: str | None
    publish_within_working_days: int
    title: str | None


@dataclass(frozen=True)
class ContractInput(ContractHeading):
    """One contract as typed in (CLI options, a YAML record or a register row), validated."""

    commissioner: str | None = None
    value: Decimal | None = None
    owner: str | None = None
    sponsor: str | None = None
    watchers: tuple[str, ...] = ()
    intervention_months: int | None = None
    notes: str | None = None
    #: The procurement law it was let under; ``pa2023`` needs ``entered_into``.
    regime: Regime = Regime.NONE
    light_touch: bool = False
    entered_into: date | None = None
    extensions: tuple[ExtensionInput, ...] = ()
    funding: tuple[FundingInput, ...] = ()
    costs: tuple[CostInput, ...] = ()
    milestones: tuple[MilestoneInput, ...] = field(default_factory=tuple)
    policy: tuple[PolicyInput, ...] = ()
    decisions: tuple[DecisionInput, ...] = ()


#: The contract's own fields a change may set (edit, import --update): input field ->
#: the contract row's column. Lines, options and decisions change by their own commands.
CONTRACT_COLUMNS: dict[str, str] = {
    "title": "title",
    "provider": "provider",
    "commissioner": "commissioner",
    "start": "start_date",
    "end": "end_date",
    "value": "value",
    "owner": "owner",
    "sponsor": "sponsor",
    "intervention_months": "intervention_months",
    "notes": "notes",
    "regime": "regime",
    "light_touch": "light_touch",
    "entered_into": "entered_into",
}

#: The keys a contract may be given with: exactly the fields of :class:`ContractInput`,
#: so a field added there is accepted from YAML, the CLI and the register alike.
CONTRACT_FIELDS = frozenset(f.name for f in fields(ContractInput))
EXTENSION_FIELDS = frozenset({"until", "notice_days", "notice_by"})
FUNDING_FIELDS = frozenset({"id", "source", "year", "amount", "status", "confirm_by"})
COST_FIELDS = frozenset({"id", "year", "amount", "category"})
MILESTONE_FIELDS = frozenset(
    {"kind", "due", "title", "note", "after", "working_days", "before", "standstill"}
)
POLICY_FIELDS = frozenset({"leads", "escalate_from", "nag_days", "max_nags"})
#: The whole-number policy fields: (smallest, largest) each may be.
_POLICY_NUMBERS = {"escalate_from": (0, 3650), "nag_days": (0, 365), "max_nags": (1, 52)}
DECISION_FIELDS = frozenset({"id", "date", "url", "publish_within_working_days", "title"})
DEFAULT_PUBLISH_DAYS = 3


def parse_url(value: object, field_name: str) -> str:
    """An http(s) link to a published record: one line, no spaces, at most 2,000 characters."""
    text = parse_text(value, field_name, max_length=2000)
    if not text.lower().startswith(("https://", "http://")) or any(c.isspace() for c in text):
        raise InvalidValue(field_name, value, "is not a web address (https://...)")
    return text


def parse_decision(raw: object, name: str) -> DecisionInput:
    data = _mapping(raw, name, DECISION_FIELDS)
    days = data.get("publish_within_working_days")
    return DecisionInput(
        ref=parse_text(data.get("id"), f"{name}.id", max_length=100),
        decided_on=parse_date(data.get("date"), f"{name}.date"),
        url=parse_url(data["url"], f"{name}.url") if data.get("url") is not None else None,
        publish_within_working_days=(
            parse_positive_int(days, f"{name}.publish_within_working_days", maximum=365)
            if days is not None
            else DEFAULT_PUBLISH_DAYS
        ),
        title=parse_optional_text(data.get("title"), f"{name}.title", max_length=300),
    )


def parse_leads(value: object, field_name: str) -> tuple[int, ...]:
    """Lead days as a list (YAML) or "120,60,30" (CLI): whole days, 0 to 3650."""
    if isinstance(value, str):
        parts: list[object] = [p.strip() for p in value.split(",")] if value.strip() else []
    elif isinstance(value, list):
        parts = list(value)
    else:
        raise InvalidValue(field_name, _brief(value), "must be a list of days, e.g. 120,60,30")
    leads = [parse_positive_int(p, field_name, maximum=3650) for p in parts]
    return normalise_leads(leads)


def _policy_number(data: Mapping[str, Any], key: str, name: str) -> int | None:
    """One whole-number policy field, or None (the default applies) when not given."""
    if data.get(key) is None:
        return None
    low, high = _POLICY_NUMBERS[key]
    return parse_positive_int(data[key], f"{name}.{key}", minimum=low, maximum=high)


def parse_policy_entry(kind_name: object, raw: object, name: str) -> PolicyInput:
    kind = parse_kind(kind_name, name)
    data = _mapping(raw, name, POLICY_FIELDS)
    if not data:
        raise InvalidValue(name, "{}", "give leads, escalate_from, nag_days or max_nags")
    leads = data.get("leads")
    return PolicyInput(
        kind=kind,
        leads=parse_leads(leads, f"{name}.leads") if leads is not None else None,
        escalate_from=_policy_number(data, "escalate_from", name),
        nag_days=_policy_number(data, "nag_days", name),
        max_nags=_policy_number(data, "max_nags", name),
    )


def parse_policy(raw: object) -> tuple[PolicyInput, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise InvalidValue(
            "policy",
            _brief(raw),
            "must map milestone kinds to {leads, escalate_from, nag_days, max_nags}",
        )
    return tuple(parse_policy_entry(kind, value, f"policy.{kind}") for kind, value in raw.items())


def parse_ref(value: object, field_name: str = "ref") -> str:
    return parse_text(value, field_name, max_length=100)


def parse_funding_status(value: object, field_name: str = "status") -> FundingStatus:
    return _choice(value, field_name, FundingStatus)


def parse_manual_kind(value: object, field_name: str = "kind") -> MilestoneKind:
    kind = parse_kind(value, field_name)
    if kind not in MANUAL_KINDS:
        allowed = ", ".join(sorted(k.value for k in MANUAL_KINDS))
        raise InvalidValue(
            field_name,
            value,
            f"is derived from the contract and cannot be added by hand ({allowed})",
        )
    return kind


def parse_kind(value: object, field_name: str = "kind") -> MilestoneKind:
    return _choice(value, field_name, MilestoneKind)


def parse_regime(value: object, field_name: str = "regime") -> Regime:
    return _choice(value, field_name, Regime)


E = TypeVar("E", FundingStatus, MilestoneKind, Regime)


def _choice(value: object, field_name: str, enum: type[E]) -> E:
    text = parse_text(value, field_name, max_length=40).lower()
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidValue(field_name, value, f"is not one of: {allowed}") from None


def _mapping(value: object, field_name: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidValue(field_name, _brief(value), "must be a mapping of fields")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise InvalidValue(
                f"{field_name}.{key}" if field_name else str(key),
                key,
                f"is not a known field (known: {', '.join(sorted(allowed))})",
            )
    return value


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _items(raw: Mapping[str, Any], key: str, parse: Callable[[object, str], T]) -> tuple[T, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidValue(key, _brief(value), "must be a list")
    return tuple(parse(item, f"{key}[{index}]") for index, item in enumerate(value))


def parse_extension(raw: object, name: str) -> ExtensionInput:
    data = _mapping(raw, name, EXTENSION_FIELDS)
    if "until" not in data:
        raise InvalidValue(f"{name}.until", "", "is required with notice_days or notice_by")
    until = parse_date(data.get("until"), f"{name}.until")
    notice_days = (
        parse_positive_int(data["notice_days"], f"{name}.notice_days", minimum=1, maximum=3650)
        if data.get("notice_days") is not None
        else None
    )
    notice_by = parse_optional_date(data.get("notice_by"), f"{name}.notice_by")
    if (notice_days is None) == (notice_by is None):
        reason = "needs exactly one of notice_days or notice_by"
        raise InvalidValue(f"{name}.until", data.get("until"), reason)
    return ExtensionInput(until=until, notice_days=notice_days, notice_by=notice_by)


def parse_funding(raw: object, name: str) -> FundingInput:
    data = _mapping(raw, name, FUNDING_FIELDS)
    status = (
        parse_funding_status(data["status"], f"{name}.status")
        if data.get("status") is not None
        else FundingStatus.EXPECTED
    )
    return FundingInput(
        source=parse_text(data.get("source"), f"{name}.source"),
        year=parse_financial_year(data.get("year"), f"{name}.year"),
        amount=parse_money(data.get("amount"), f"{name}.amount"),
        status=status,
        confirm_by=parse_optional_date(data.get("confirm_by"), f"{name}.confirm_by"),
        id=parse_optional_text(data.get("id"), f"{name}.id", max_length=12),
        status_given=data.get("status") is not None,
    )


def parse_cost(raw: object, name: str) -> CostInput:
    data = _mapping(raw, name, COST_FIELDS)
    return CostInput(
        year=parse_financial_year(data.get("year"), f"{name}.year"),
        amount=parse_money(data.get("amount"), f"{name}.amount"),
        category=parse_optional_text(data.get("category"), f"{name}.category") or "",
        id=parse_optional_text(data.get("id"), f"{name}.id", max_length=12),
    )


def _change_notice(data: Mapping[str, Any], name: str) -> MilestoneInput:
    """A change notice: due before the modification (``before``), by the Act's rule."""
    if data.get("due") is not None or data.get("after") is not None:
        raise InvalidValue(f"{name}.before", "", "is how a change_notice is dated (not due/after)")
    before = parse_date(data.get("before"), f"{name}.before")
    standstill = parse_yes_no(data.get("standstill") or False, f"{name}.standstill")
    due, title, note = change_notice_due(before, standstill=standstill)
    given_note = parse_optional_text(
        data.get("note"), f"{name}.note", max_length=2000, multiline=True
    )
    return MilestoneInput(
        kind=MilestoneKind.CHANGE_NOTICE,
        due=due,
        title=parse_optional_text(data.get("title"), f"{name}.title", max_length=300) or title,
        note=f"{note}; {given_note}" if given_note else note,
    )


def parse_milestone(raw: object, name: str) -> MilestoneInput:
    data = _mapping(raw, name, MILESTONE_FIELDS)
    kind = parse_manual_kind(data.get("kind"), f"{name}.kind")
    if kind == MilestoneKind.CHANGE_NOTICE:
        return _change_notice(data, name)
    for only in ("before", "standstill"):
        if data.get(only) is not None:
            raise InvalidValue(f"{name}.{only}", data[only], "is for a change_notice only")
    due = parse_optional_date(data.get("due"), f"{name}.due")
    if data.get("after") is not None or data.get("working_days") is not None:
        if due is not None:
            raise InvalidValue(
                f"{name}.due", data.get("due"), "give due or after + working_days, not both"
            )
        after = parse_date(data.get("after"), f"{name}.after")
        days = parse_positive_int(data.get("working_days"), f"{name}.working_days", maximum=365)
        due = publication_due(after, days)
    if due is None:
        raise InvalidValue(f"{name}.due", "", "is required (or after + working_days)")
    return MilestoneInput(
        kind=kind,
        due=due,
        title=parse_optional_text(data.get("title"), f"{name}.title", max_length=300),
        note=parse_optional_text(data.get("note"), f"{name}.note", max_length=2000, multiline=True),
    )


def parse_contract(raw: object, name: str = "") -> ContractInput:
    """Validate one contract record; errors name the field (``funding[1].amount``)."""
    data = _mapping(raw, name, CONTRACT_FIELDS)
    for required in ("ref", "title", "provider", "start", "end"):
        if data.get(required) is None:
            raise InvalidValue(required, "", "is required")
    start = parse_date(data["start"], "start")
    end = parse_date(data["end"], "end")
    if end < start:
        raise InvalidValue("end", data["end"], f"is before the start ({start.isoformat()})")
    contract = ContractInput(
        ref=parse_ref(data["ref"]),
        title=parse_text(data["title"], "title"),
        provider=parse_text(data["provider"], "provider"),
        start=start,
        end=end,
        commissioner=parse_optional_text(data.get("commissioner"), "commissioner"),
        value=parse_optional_money(data.get("value"), "value"),
        owner=parse_email(data["owner"], "owner") if data.get("owner") is not None else None,
        sponsor=parse_email(data["sponsor"], "sponsor")
        if data.get("sponsor") is not None
        else None,
        watchers=parse_email_list(data.get("watchers") or [], "watchers"),
        intervention_months=(
            parse_positive_int(
                data["intervention_months"], "intervention_months", minimum=1, maximum=120
            )
            if data.get("intervention_months") is not None
            else None
        ),
        notes=parse_optional_text(data.get("notes"), "notes", max_length=10_000, multiline=True),
        regime=parse_regime(data["regime"]) if data.get("regime") is not None else Regime.NONE,
        light_touch=parse_yes_no(data.get("light_touch") or False, "light_touch"),
        entered_into=parse_optional_date(data.get("entered_into"), "entered_into"),
        extensions=_items(data, "extensions", parse_extension),
        funding=_items(data, "funding", parse_funding),
        costs=_items(data, "costs", parse_cost),
        milestones=_items(data, "milestones", parse_milestone),
        policy=parse_policy(data.get("policy")),
        decisions=_items(data, "decisions", parse_decision),
    )
    check_extensions(contract.end, contract.extensions)
    check_regime(contract.regime, contract.entered_into)
    if contract.regime != Regime.PA2023 and any(
        m.kind == MilestoneKind.CHANGE_NOTICE for m in contract.milestones
    ):
        raise InvalidValue("milestones", "change_notice", NOT_UNDER_THE_ACT)
    return contract


#: Why a change notice cannot be added to a contract not let under the Act.
NOT_UNDER_THE_ACT = "is for a contract procured under the Procurement Act 2023 (regime pa2023)"


def check_regime(regime: Regime, entered_into: date | None) -> None:
    """The Act's notices run from the day the contract was entered into: pa2023 needs it."""
    if regime == Regime.PA2023 and entered_into is None:
        raise InvalidValue(
            "entered_into", "", "is required for regime pa2023 (the day the contract was signed)"
        )


def check_extensions(end: date, extensions: tuple[ExtensionInput, ...]) -> None:
    """Options must extend beyond the end and each other, and notice must precede the end."""
    previous = end
    for index, option in enumerate(extensions):
        name = f"extensions[{index}]"
        if option.until <= previous:
            raise InvalidValue(
                f"{name}.until", option.until.isoformat(), f"must be after {previous.isoformat()}"
            )
        if option.notice_by is not None and option.notice_by > previous:
            raise InvalidValue(
                f"{name}.notice_by",
                option.notice_by.isoformat(),
                f"is after the end it extends ({previous.isoformat()})",
            )
        previous = option.until


# -- a contract's life: variations and early ends -------------------------------------------

#: How long a variation's number may be ("Variation 2", "CCN 14").
REF_NO_LENGTH = 100


@dataclass(frozen=True)
class VariationInput:
    """A formal variation: its number and date, and the new end and/or value it agrees."""

    ref_no: str
    dated: date
    end: date | None
    value: Decimal | None
    note: str | None


@dataclass(frozen=True)
class TerminationInput:
    """A contract ending before its end date: on which day, why, and a note."""

    on: date
    reason: EndReason
    note: str | None


def parse_note(value: object, field_name: str = "note") -> str | None:
    return parse_optional_text(value, field_name, max_length=2000, multiline=True)


def parse_variation(raw: Mapping[str, Any]) -> VariationInput:
    """``tracker vary``'s options; a variation must move the end, the value or both."""
    end = parse_optional_date(raw.get("end"), "end")
    value = parse_optional_money(raw.get("value"), "value")
    if end is None and value is None:
        raise InvalidValue("end", "", "or --value is required (what the variation changes)")
    return VariationInput(
        ref_no=parse_text(raw.get("ref_no"), "ref_no", max_length=REF_NO_LENGTH),
        dated=parse_date(raw.get("date"), "date"),
        end=end,
        value=value,
        note=parse_note(raw.get("note")),
    )


def parse_termination(raw: Mapping[str, Any]) -> TerminationInput:
    """``tracker terminate``'s options."""
    text = parse_text(raw.get("reason"), "reason", max_length=40).lower()
    try:
        reason = EndReason(text)
    except ValueError:
        allowed = ", ".join(member.value for member in EndReason)
        raise InvalidValue("reason", raw.get("reason"), f"is not one of: {allowed}") from None
    return TerminationInput(
        on=parse_date(raw.get("on"), "on"), reason=reason, note=parse_note(raw.get("note"))
    )
