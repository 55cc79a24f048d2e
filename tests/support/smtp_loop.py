"""aiosmtpd on the test's own event loop, for the transport tests (no thread, no CLI).

aiosmtpd's ``Controller`` runs in its own thread and, in 1.4, cannot use ``port=0`` (it
probes the configured port to see that the server is up). Serving aiosmtpd's ``SMTP``
protocol with ``loop.create_server(..., port=0)`` on the test's own loop gives a free
port without a race, lets the handler count connections, and needs no thread.

Set :attr:`LoopSmtpServer.behaviour` to a function of :class:`Call` returning a reply
(``"451 ..."``), :data:`~support.smtp.DROP` (close the connection without replying) or
``None`` (behave normally).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import ClassVar, Literal

from aiosmtpd.smtp import SMTP, Envelope, Session

from support.smtp import DROP, answer, parse_message


@dataclass
class Call:
    """One command the server is about to answer, as a behaviour sees it."""

    command: Literal["MAIL", "RCPT", "DATA"]
    address: str | None  # MAIL / RCPT: the address; DATA: None
    number: int  # how many times this command has been seen on this server, from 1


Behaviour = Callable[[Call], str | None]


@dataclass
class LoopReceived:
    """A message the server accepted: the parsed message and its envelope."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class LoopSmtpServer:
    DROP: ClassVar[str] = DROP

    host: str
    port: int
    messages: list[LoopReceived] = field(default_factory=list)
    connections: int = 0
    behaviour: Behaviour | None = None
    counts: dict[str, int] = field(default_factory=dict)
    protocols: list[SMTP] = field(default_factory=list)

    def close_connections(self) -> None:
        """Hang up on every client, as a server does with idle connections."""
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()

    def ask(self, command: Literal["MAIL", "RCPT", "DATA"], address: str | None) -> str | None:
        self.counts[command] = self.counts.get(command, 0) + 1
        if self.behaviour is None:
            return None
        return self.behaviour(Call(command, address, self.counts[command]))


class LoopHandler:
    """aiosmtpd hooks that consult the test's behaviour before doing the normal thing."""

    def __init__(self, state: LoopSmtpServer) -> None:
        self.state = state

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        reply = self.state.ask("MAIL", address)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"
        return answer(server, reply)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.state.ask("RCPT", address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 OK"
        return answer(server, reply)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.state.ask("DATA", None)
        if reply is not None:
            return answer(server, reply)
        parsed = parse_message(envelope.original_content or b"")
        recipients = [str(a) for a in envelope.rcpt_tos]
        self.state.messages.append(LoopReceived(parsed, str(envelope.mail_from), recipients))
        return f"250 2.0.0 OK queued as {len(self.state.messages)}"
