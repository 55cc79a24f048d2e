"""The test tree's own rule: shared test code lives in ``tests/support`` (a package on
the path), never imported from a ``conftest`` module. Several directories have a
conftest, so ``from conftest import X`` resolves to whichever pytest loaded first and
breaks when a run mixes directories."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_module_imports_a_conftest() -> None:
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if re.search(r"^\s*(from conftest import|import conftest)", path.read_text(), re.M)
    ]
    assert offenders == []
