"""Code that runs outside the test's own flow: a coroutine on a private loop in a thread
(for sync fixtures and helpers), ``tracker`` as a real subprocess, polling."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from support.cli import Result
from support.people import MAIL_FROM

_T = TypeVar("_T")


def run_in_thread(coro: Coroutine[Any, Any, _T], name: str = "test-loop") -> _T:
    """Run ``coro`` to completion on a private event loop in a helper thread, so it is
    independent of whatever loop pytest-asyncio has (or has not) set up for the test."""
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """os.environ without TRACKER_* (nor a config file), HOME under the test, plus
    ``settings``: the subprocess twin of :func:`support.cli.isolate`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        COLUMNS="200",
        TRACKER_MAIL_FROM=MAIL_FROM,
        TRACKER_OUTBOX_DIR=str(home / "outbox-must-stay-empty"),
    )
    env.update(settings)
    return env


def tracker_argv(url: str, *args: str, now: str | None = None) -> list[str]:
    return [sys.executable, "-m", "tracker", "--db", url, *(["--now", now] if now else []), *args]


def run_tracker(
    url: str,
    *args: str,
    env: Mapping[str, str],
    cwd: Path,
    now: str | None = None,
    timeout: float = 180,
) -> Result:
    """``python -m tracker --db url [--now now] *args`` as a subprocess, to completion."""
    done = subprocess.run(
        tracker_argv(url, *args, now=now),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def wait_until(predicate: Callable[[], _T], timeout: float, what: str) -> _T:
    """Poll ``predicate`` until it is truthy and return its value (or fail after
    ``timeout`` seconds, naming ``what`` was awaited)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def kill_when(
    process: subprocess.Popen[Any], ready: Callable[[], object], timeout: float, what: str
) -> None:
    """SIGKILL ``process`` (no clean-up of its own: a crash or an OOM kill) once ``ready``
    holds, and reap it; on any failure on the way it is still killed, never left behind."""
    try:
        wait_until(ready, timeout, what)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
