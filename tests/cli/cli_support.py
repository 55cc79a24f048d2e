"""Shared helpers of the CLI tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "config" / "seeds"
LANCS_SEED = SEEDS / "lancashire-drive-2024.yaml"
WM_SEED = SEEDS / "west-mercia-drive-2018.yaml"
LANCS = "LANCS-DRIVE"
WM = "PCC/D/2018/25"
#: The Lancashire record's own date: the decision to extend was taken on 2 Sep 2024.
NOW = "2024-09-02"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def __repr__(self) -> str:  # readable assertion failures
        return f"Result(code={self.code!r},\n  out={self.out!r},\n  err={self.err!r})"


def dump(db_path: Path) -> str:
    """The whole database as SQL text (to show a failed command changed nothing)."""
    connection = sqlite3.connect(db_path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


Runner = Callable[..., Result]


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRACKER_* settings, a private home and data dir, the test's folder as cwd."""
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
