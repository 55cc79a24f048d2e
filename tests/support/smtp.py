"""SMTP servers for tests that drive the real ``tracker`` (in-process or as subprocesses)
against a real server on 127.0.0.1, plus what such tests need around them.

The CLI runs ``asyncio.run`` itself, so its server must keep answering from another
thread: :class:`ThreadedSmtpServer` records every accepted message (parsed, with its
envelope recipients and Message-ID) and has switchable faults:

* :meth:`~ThreadedSmtpServer.fail_rcpt` -- reply a code to RCPT, for the next N
  recipients or for one recipient;
* :meth:`~ThreadedSmtpServer.fail_data` -- reply a code to DATA for the next N messages;
* :meth:`~ThreadedSmtpServer.drop_data` -- read the message, then drop the connection
  before the DATA reply (the message is *not* recorded as accepted);
* :meth:`~ThreadedSmtpServer.require_auth` -- refuse MAIL until the client logs in
  with the given credentials;
* :attr:`~ThreadedSmtpServer.on_data` -- a hook run (in the server's thread) when a
  message has been accepted, just before the ``250`` reply is written;
* :attr:`~ThreadedSmtpServer.data_reply` -- a hook deciding each message's DATA reply
  (a reply such as ``"450 ..."`` to refuse it, None to accept it): greylisting.

:class:`StartTlsSmtpServer` offers STARTTLS, :class:`RawServer` runs a script on bare
TCP (a ``421`` greeting, a server that never answers), :func:`make_tls_cert` makes a
self-signed certificate, :func:`free_port` a port nothing listens on.

aiosmtpd 1.4's ``Controller`` cannot take ``port=0`` (it connects to the configured port
to check the server is up), so a free port is found by binding port 0 first.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

#: A fault reply meaning: drop the connection instead of replying.
DROP = "<drop>"


def answer(server: SMTP, reply: str) -> str:
    """The reply to write, or for :data:`DROP` a hang-up before anything is written."""
    if reply == DROP:
        # abort() discards the reply aiosmtpd is about to write: the client sees EOF.
        transport = server.transport
        assert isinstance(transport, asyncio.Transport)
        transport.abort()
        return "250 OK (never sent)"
    return reply


def parse_message(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago and has no listener (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Received:
    """One message the server accepted (replied 250 to its DATA)."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message_id: str
    #: Unfolded and stripped: a long Subject is folded right after ``Subject:``, which
    #: the email parser keeps as a leading space.
    subject: str
    at: float  # time.monotonic() when accepted
    raw: bytes  # the message as it came over the wire


@dataclass
class Fault:
    command: Literal["RCPT", "DATA"]
    reply: str  # e.g. "451 4.7.1 Try again later", or DROP
    remaining: int | None  # None: every time
    recipient: str | None  # RCPT only: only for this address

    def matches(self, command: str, address: str | None) -> bool:
        if command != self.command or self.remaining == 0:
            return False
        return self.recipient is None or (address or "").lower() == self.recipient.lower()


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[Received] = field(default_factory=list)
    dropped: list[Received] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    refused: list[tuple[str, str | None, str]] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    logins: list[tuple[str, bool]] = field(default_factory=list)
    connections: int = 0


def _raw(envelope: Envelope) -> bytes:
    content = envelope.original_content or envelope.content or b""
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogateescape")
    return content


def _received(envelope: Envelope) -> Received:
    raw = _raw(envelope)
    parsed = parse_message(raw)
    return Received(
        message=parsed,
        mail_from=str(envelope.mail_from),
        rcpt_tos=tuple(str(a) for a in envelope.rcpt_tos),
        message_id=str(parsed.get("Message-ID", "")).strip(),
        subject=str(parsed.get("Subject", "")).strip(),
        at=time.monotonic(),
        raw=raw,
    )


class _Handler:
    def __init__(self, server: ThreadedSmtpServer) -> None:
        self.server = server

    def _fault(self, command: str, address: str | None) -> str | None:
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if fault.matches(command, address):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    state.refused.append((command, address, fault.reply))
                    return fault.reply
        return None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._fault("RCPT", address)
        if reply is not None:
            return answer(server, reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.data_delay:
            await asyncio.sleep(self.server.data_delay)
        received = _received(envelope)
        reply = self._fault("DATA", None)
        if reply is None and self.server.data_reply is not None:
            reply = self.server.data_reply(received)
        state = self.server.state
        if reply == DROP:
            with state.lock:
                state.dropped.append(received)
            return answer(server, reply)
        if reply is not None:
            return reply
        with state.lock:
            state.messages.append(received)
            number = len(state.messages)
        hook = self.server.on_data
        if hook is not None:
            hook(received)
        return f"250 2.0.0 OK queued as {number}"


class _Controller(Controller):
    """Builds each connection's SMTP protocol from the server's current options, so AUTH
    can be switched on and off between sweeps."""

    def __init__(self, owner: ThreadedSmtpServer, **kwargs: Any) -> None:
        super().__init__(_Handler(owner), **kwargs)
        self.owner = owner

    def factory(self) -> SMTP:
        state = self.owner.state
        with state.lock:
            state.connections += 1
        options = self.owner.smtp_options()
        with warnings.catch_warnings():
            # "Requiring AUTH while not requiring TLS": deliberate, on 127.0.0.1.
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(self.handler, hostname="smtp.test", enable_SMTPUTF8=True, **options)


class ThreadedSmtpServer:
    """See the module docstring. ``start()`` / ``stop()``, or use as a context manager."""

    label = "SMTP"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.state = _State()
        #: Called in the server's thread with each accepted message, before its 250.
        self.on_data: Callable[[Received], None] | None = None
        #: Called in the server's thread with each message read: a reply refuses it.
        self.data_reply: Callable[[Received], str | None] | None = None
        #: Seconds the server takes to answer each DATA (a slow relay).
        self.data_delay = 0.0
        self._controller: _Controller | None = None

    # -- lifecycle

    def smtp_options(self) -> dict[str, Any]:
        """aiosmtpd ``SMTP`` options of the next connection (AUTH if switched on)."""
        with self.state.lock:
            needs_auth = self.state.credentials is not None
        return {
            "auth_required": needs_auth,
            "auth_require_tls": False,
            "authenticator": self._authenticate,
        }

    def start(self) -> ThreadedSmtpServer:
        last: Exception | None = None
        for _ in range(5):  # the port found free may be taken before aiosmtpd binds it
            port = free_port(self.host)
            controller = _Controller(self, hostname=self.host, port=port, ready_timeout=10)
            try:
                controller.start()
            except (OSError, RuntimeError, TimeoutError) as exc:
                last = exc
                continue
            self._controller, self.port = controller, port
            with self.state.lock:
                self.state.connections = 0  # forget the controller's own start-up probe
            return self
        raise RuntimeError(f"could not start the {self.label} server: {last}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> ThreadedSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what arrived

    @property
    def messages(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.messages)

    @property
    def dropped(self) -> list[Received]:
        """Messages read in full whose DATA reply was never sent (connection dropped)."""
        with self.state.lock:
            return list(self.state.dropped)

    @property
    def refused(self) -> list[tuple[str, str | None, str]]:
        """(command, address, reply) of every fault the server answered with."""
        with self.state.lock:
            return list(self.state.refused)

    @property
    def logins(self) -> list[tuple[str, bool]]:
        """(username, succeeded) of every AUTH attempt."""
        with self.state.lock:
            return list(self.state.logins)

    @property
    def connections(self) -> int:
        with self.state.lock:
            return self.state.connections

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages were accepted (or fail)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages
            if len(messages) >= count:
                return messages
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    # -- faults

    def fail_rcpt(self, reply: str, *, times: int | None = 1, recipient: str | None = None) -> None:
        """Reply ``reply`` to RCPT: for the next ``times`` recipients (None: always), or
        only for ``recipient``."""
        with self.state.lock:
            self.state.faults.append(Fault("RCPT", reply, times, recipient))

    def fail_data(self, reply: str, *, times: int | None = 1) -> None:
        """Reply ``reply`` to the DATA of the next ``times`` messages (None: always)."""
        with self.state.lock:
            self.state.faults.append(Fault("DATA", reply, times, None))

    def drop_data(self, *, times: int | None = 1) -> None:
        """Read the next ``times`` messages, then hang up before the DATA reply."""
        self.fail_data(DROP, times=times)

    def require_auth(self, username: str, password: str) -> None:
        """From the next connection on, refuse MAIL until AUTH with these credentials."""
        with self.state.lock:
            self.state.credentials = (username, password)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
            self.state.credentials = None

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        with self.state.lock:
            ok = self.state.credentials is None or self.state.credentials == (login, password)
            self.state.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)


class StartTlsSmtpServer(ThreadedSmtpServer):
    """:class:`ThreadedSmtpServer` whose connections offer STARTTLS (self-signed)."""

    label = "STARTTLS"

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.context = context

    def smtp_options(self) -> dict[str, Any]:
        return {"tls_context": self.context, "require_starttls": False}


def reminder_key(message_id: str) -> tuple[int, str, int, str]:
    """(milestone id, due YYYYMMDD, lead, recipient hash) from a tracker Message-ID
    ``<r{milestone}.{due}.{l|n}{days}.{hash}@domain>``; a nag's lead is negative."""
    local = message_id.strip("<>").partition("@")[0]
    milestone, due, tag, digest = local.split(".")
    assert milestone.startswith("r") and tag[0] in "ln", message_id
    lead = int(tag[1:]) * (-1 if tag[0] == "n" else 1)
    return int(milestone[1:]), due, lead, digest


# ------------------------------------------------------------------- TLS certificates


@dataclass(frozen=True)
class TlsCert:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


#: ``openssl req`` arguments of a self-signed EC certificate for 127.0.0.1 and localhost.
_CERT_REQUEST = (
    *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
    *("-days", "2", "-subj", "/CN=127.0.0.1"),
    *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
)


def make_tls_cert(directory: Path) -> TlsCert:
    """A self-signed certificate valid for 127.0.0.1 and localhost, made by ``openssl``."""
    cert = TlsCert(directory / "cert.pem", directory / "key.pem")
    argv = ["openssl", *_CERT_REQUEST, "-keyout", str(cert.keyfile), "-out", str(cert.certfile)]
    subprocess.run(argv, check=True, capture_output=True)
    return cert


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
