"""Shared helpers of the reliability suite (imported by conftest.py and the test modules).

Puts ``tests/cli`` and ``tests/mail`` on ``sys.path`` so their helpers can be reused:
``cli_support.dump`` (the SQLite database as SQL text) and ``smtp_threaded`` (a threaded
aiosmtpd server with fault switches and Message-ID records).

``FIGURES`` collects what the suite did; the terminal summary prints it as one line.
"""

from __future__ import annotations

import io
import socket
import sqlite3
import ssl
import sys
import threading
import traceback
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _folder in (_TESTS / "cli", _TESTS / "mail"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from cli_support import LANCS_SEED, NOW, WM_SEED, Result, dump  # noqa: E402
from smtp_threaded import (  # noqa: E402
    SMTP,
    CliResult,
    ThreadedSmtpServer,
    TrackerEnv,
    _Controller,
)

from tracker.cli.main import main  # noqa: E402

__all__ = ["LANCS_SEED", "NOW", "WM_SEED", "CliResult", "Result", "TrackerEnv", "dump"]


# ------------------------------------------------------------------------------ figures


@dataclass
class Figures:
    """What the reliability suite tried and what came of it (printed at the end)."""

    inputs_tried: int = 0
    faults_injected: int = 0
    messages_expected: int = 0
    delivered: int = 0
    duplicated: int = 0
    lost: int = 0
    used: bool = False

    def inputs(self, n: int = 1) -> None:
        self.used = True
        self.inputs_tried += n

    def faults(self, n: int = 1) -> None:
        self.used = True
        self.faults_injected += n

    def messages(self, *, expected: int, delivered: int, duplicated: int) -> None:
        """Account for one scenario: ``delivered`` distinct reminders recorded sent
        (of ``expected``), ``duplicated`` reminders the database recorded sent twice."""
        self.used = True
        self.messages_expected += expected
        self.delivered += delivered
        self.duplicated += duplicated
        self.lost += max(0, expected - delivered)

    def line(self) -> str:
        return (
            f"reliability: inputs tried {self.inputs_tried}, faults injected "
            f"{self.faults_injected}, messages expected {self.messages_expected}, delivered "
            f"{self.delivered}, duplicated {self.duplicated}, lost {self.lost}"
        )


FIGURES = Figures()


def sent_per_reminder(db_path: Path) -> dict[int, int]:
    """reminder id -> number of 'sent' attempts the database recorded for it."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT r.id, COUNT(a.id) FROM reminders r LEFT JOIN delivery_attempts a"
            " ON a.reminder_id = r.id AND a.outcome = 'sent' GROUP BY r.id"
        ).fetchall()
    return {int(rid): int(n) for rid, n in rows}


def account(db_path: Path, expected: int) -> tuple[int, int]:
    """Add one scenario to the figures from the database; returns (delivered, duplicated)."""
    counts = sent_per_reminder(db_path)
    delivered = sum(1 for n in counts.values() if n >= 1)
    duplicated = sum(1 for n in counts.values() if n > 1)
    FIGURES.messages(expected=expected, delivered=delivered, duplicated=duplicated)
    return delivered, duplicated


# ---------------------------------------------------------------------- the CLI in-process


def in_process(argv: list[str]) -> Result:
    """``tracker *argv`` in this process; a raised exception is code -1 with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except (Exception, SystemExit):
            err.write(traceback.format_exc())
            code = -1
    return Result(code=code, out=out.getvalue(), err=err.getvalue())


Runner = Callable[..., Result]


def copy_database(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# ---------------------------------------------------------------- a raw TCP server


Script = Callable[[socket.socket], None]


class RawServer:
    """A bare TCP server in a thread; each connection runs ``script(conn)``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.host, self.port = "127.0.0.1", self.sock.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.script(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        for conn in self.open:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.sock.close()


# ----------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsCert:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


class _StartTlsController(_Controller):
    """The threaded server's controller, offering STARTTLS with a given certificate."""

    tls_context: ssl.SSLContext

    def factory(self) -> SMTP:
        with self.owner.state.lock:
            self.owner.state.connections += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(
                self.handler,
                hostname="smtp.test",
                enable_SMTPUTF8=True,
                tls_context=self.tls_context,
                require_starttls=False,
            )


class StartTlsSmtpServer(ThreadedSmtpServer):
    """:class:`ThreadedSmtpServer` whose connections offer STARTTLS (self-signed)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.context = context

    def start(self) -> StartTlsSmtpServer:
        from smtp_threaded import free_port

        last: Exception | None = None
        for _ in range(5):
            port = free_port(self.host)
            controller = _StartTlsController(self, hostname=self.host, port=port, ready_timeout=10)
            controller.tls_context = self.context
            try:
                controller.start()
            except (OSError, RuntimeError, TimeoutError) as exc:
                last = exc
                continue
            self._controller, self.port = controller, port
            with self.state.lock:
                self.state.connections = 0
            return self
        raise RuntimeError(f"could not start the STARTTLS server: {last}")


# ------------------------------------------------------------ contracts due right now

OLIVIA = "olivia@opcc.example.org"
STEVE = "steve@opcc.example.org"


def london_today() -> date:
    from tracker.domain.calendar import LONDON

    return datetime.now(LONDON).date()


def due_now_yaml(contracts: int, kinds: tuple[str, ...] = ("review",)) -> str:
    """Contracts whose manual decisions have a reminder due at the *real* time (for
    ``tracker run``, which takes no ``--now``): each decision is due in 20 days, with one
    lead of 30 days copying the sponsor, so its reminder went due ten days ago, once to
    the owner and once to the sponsor. Nothing derived is due for years."""
    today = london_today()
    due = today + timedelta(days=20)
    end = date(today.year + 6, 3, 31)
    policy = "".join(f"      {kind}: {{leads: [30], escalate_from: 30}}\n" for kind in kinds)
    lines = ["contracts:\n"]
    for n in range(contracts):
        milestones = "".join(
            f"      - {{kind: {kind}, due: {due.isoformat()}, title: {kind} {n}}}\n"
            for kind in kinds
        )
        lines.append(
            f"  - ref: DUE/{n:03d}\n"
            f"    title: Victim services lot {n}\n"
            "    provider: Safer Futures CIC\n"
            "    start: 2024-04-01\n"
            f"    end: {end.isoformat()}\n"
            f"    owner: {OLIVIA}\n"
            f"    sponsor: {STEVE}\n"
            "    policy:\n"
            f"{policy}"
            "    milestones:\n"
            f"{milestones}"
        )
    return "".join(lines)
