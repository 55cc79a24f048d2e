"""Helpers of the real-clock delivery tests: contracts due around the real today, `tracker
send` processes with no ``--now``, a sliding-window count, and the figures printed in the
terminal summary (``delivery figures``)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from support.people import OLIVIA, STEVE
from support.processes import run_tracker, tracker_argv
from support.smtp import ThreadedSmtpServer

#: Printed by this directory's conftest at the end of the run.
FIGURES: list[str] = []


def figure(line: str) -> None:
    """Keep ``line`` for the terminal summary, and print it (seen with ``-s``)."""
    FIGURES.append(line)
    print(line)


def contracts_yaml(count: int) -> str:
    """``count`` contracts with two decisions each, due 11 days after the real today: the
    14-day lead (owner and sponsor) has passed, the 7-day one has not, so a sweep now
    sends 2 messages per decision, 4 per contract (earlier leads collapsed into them)."""
    today = date.today()
    due = today + timedelta(days=11)
    start, end = today - timedelta(days=60), today.replace(year=today.year + 5)
    parts = []
    for n in range(count):
        parts.append(
            f"  - ref: RC/{n:03d}\n"
            f"    title: Real clock contract {n}\n"
            "    provider: Safer Futures CIC\n"
            f"    start: {start.isoformat()}\n"
            f"    end: {end.isoformat()}\n"
            "    value: 100000\n"
            f"    owner: {OLIVIA}\n"
            f"    sponsor: {STEVE}\n"
            "    milestones:\n"
            f"      - {{kind: review, due: {due.isoformat()}, title: review decision}}\n"
            f"      - {{kind: custom, due: {due.isoformat()}, title: custom decision}}\n"
        )
    return "contracts:\n" + "".join(parts)


def smtp_env(smtp: ThreadedSmtpServer, **settings: str) -> dict[str, str]:
    return {
        "TRACKER_SMTP_HOST": smtp.host,
        "TRACKER_SMTP_PORT": str(smtp.port),
        "TRACKER_SMTP_SECURITY": "none",
        "TRACKER_SMTP_TIMEOUT": "30",
        **settings,
    }


def prepare(url: str, contracts: int, env: dict[str, str], home: Path) -> int:
    """Import the contracts (real clock) and return how many messages are due now."""
    path = home / "contracts.yaml"
    path.write_text(contracts_yaml(contracts))
    imported = run_tracker(url, "import", str(path), env=env, cwd=home)
    assert imported.code == 0, imported
    dry = run_tracker(url, "send", "--dry-run", env=env, cwd=home)
    assert dry.code == 0, dry
    expected = contracts * 4
    assert f"{expected} messages due" in dry.out, dry
    return expected


#: ``python -c`` body: the CLI with the limiter's window shrunk to ``argv[1]`` seconds.
_SHRUNK = (
    "import sys; from datetime import timedelta; import tracker.store.limiter as limiter; "
    "limiter._WINDOW = timedelta(seconds=float(sys.argv.pop(1))); "
    "from tracker.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def start_sender(
    url: str, env: dict[str, str], home: Path, *, window: float | None = None
) -> subprocess.Popen[str]:
    """``tracker send`` as a subprocess on the real clock (no ``--now``); with ``window``,
    the send-rate window is that many seconds instead of 60 (the same code path)."""
    argv = tracker_argv(url, "send")
    if window is not None:
        argv = [sys.executable, "-c", _SHRUNK, str(window), *argv[3:]]
    return subprocess.Popen(
        argv, env=env, cwd=home, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for a sender; it must exit cleanly. Its output."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (out[-2000:], err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    return out


def wire_figures(label: str, expected: int, ids: Sequence[str]) -> Counter[str]:
    """Print messages expected / arrived / distinct Message-IDs; the per-ID counts."""
    counts = Counter(ids)
    figure(
        f"{label}: messages expected {expected}, arrived {len(ids)}, "
        f"distinct Message-IDs {len(counts)}"
    )
    return counts


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most arrival ``times`` (seconds) in any half-open window ``window`` long."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best
