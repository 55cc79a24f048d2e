"""Printing: Rich for people, JSON for scripts, with PRODUCT.md's JSON conventions.

JSON uses ISO dates, UTC timestamps ending in ``Z``, money as two-decimal strings and
milestone kinds by name, whatever the Python type underneath.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console

from tracker.domain.money import money_json
from tracker.domain.types import FinancialYear


def console() -> Console:
    """stdout console; 120 columns when not a terminal so piped tables stay readable."""
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
    return Console(width=width, highlight=False, soft_wrap=False)


def plain(value: Any) -> Any:
    """Convert to JSON-ready values following the conventions."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_json(value)
    if isinstance(value, FinancialYear):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(plain(value), indent=2, ensure_ascii=False) + "\n")
