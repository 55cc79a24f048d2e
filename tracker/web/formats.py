"""The shared formatters the signed-in pages show values with, handed to templates as
``formats`` (the domain's own: UK dates, London times, pounds, day phrases)."""

from __future__ import annotations

from types import MappingProxyType

from tracker.domain.dates import format_london, format_uk
from tracker.domain.money import format_gbp, gbp_or_unknown
from tracker.domain.wording import days_phrase, decision_link_label, kind_label

FORMATS = MappingProxyType(
    {
        "day": format_uk,
        "moment": format_london,
        "gbp": format_gbp,
        "gbp_or_unknown": gbp_or_unknown,
        "days": days_phrase,
        "kind": kind_label,
        "decision": decision_link_label,
    }
)
