"""An SQLite too old for the tracker's queries is refused in one line, before any query."""

from __future__ import annotations

import pytest

from tracker.errors import ConfigError
from tracker.store.engine import SQLITE_MINIMUM, _require_sqlite


def test_an_old_sqlite_is_refused_naming_both_versions() -> None:
    with pytest.raises(ConfigError) as raised:
        _require_sqlite((3, 31, 1), "3.31.1")
    assert str(raised.value).endswith(
        "SQLite 3.35.0 or later is needed; this Python uses SQLite 3.31.1"
    )


def test_the_minimum_and_newer_are_accepted() -> None:
    _require_sqlite(SQLITE_MINIMUM, "3.35.0")
    _require_sqlite((3, 46, 0), "3.46.0")
