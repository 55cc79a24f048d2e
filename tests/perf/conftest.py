"""tests/perf: unit tests behind the benchmarks in bench/ (no timings here).

``bench`` lives at the top of the repository, not in the installed package, so the
repository root goes on ``sys.path`` for these tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
