"""`tracker run` against a database it cannot reach: it exits at once, non-zero, with one
clear line on stderr, no traceback, and never the password in the URL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.processes import clean_env

PASSWORD = "s3cr3t-Pa55"
URL = f"postgresql+asyncpg://tracker:{PASSWORD}@127.0.0.1:1/tracker"


@pytest.mark.parametrize("given_as", ["--db", "TRACKER_DATABASE_URL"])
def test_run_exits_at_once_with_one_line_and_no_password(tmp_path: Path, given_as: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, TRACKER_SMTP_HOST="127.0.0.1", TRACKER_SMTP_PORT="1")
    argv = [sys.executable, "-m", "tracker"]
    if given_as == "--db":
        argv += ["--db", URL]
    else:
        env["TRACKER_DATABASE_URL"] = URL
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 1, done
    assert elapsed < 20, f"took {elapsed:.1f}s to give up"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: database "), lines
    assert "127.0.0.1:1" in lines[0] and "cannot" in lines[0], lines
    assert "Traceback" not in done.stderr + done.stdout
    assert PASSWORD not in done.stderr + done.stdout
    assert done.stdout == ""
