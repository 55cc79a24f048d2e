"""Delivery against real mail servers and real clocks: greylisting, slow relays with two
senders, a sender killed mid-batch, and the shared sending rate (issue 15, sections 1-3).

Helpers are in ``delivery_support.py``. The terminal summary prints the figures the
tests measured (``delivery figures``): messages expected, arrived and distinct
Message-IDs of the multi-sender runs, and the send-rate window maximum.
"""

from __future__ import annotations

from typing import Any

import pytest
from delivery_support import FIGURES


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "delivery figures")
    for line in FIGURES:
        terminalreporter.write_line(line)
