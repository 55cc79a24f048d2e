"""The transports against real servers: what each fault becomes (SENT, TEMPORARY, PERMANENT,
or MailConfigError), one connection per batch, and the outbox folder's files."""

from __future__ import annotations

import asyncio
import email.policy
import os
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import Outcome
from tracker.mail.transport import (
    MailConfigError,
    OutboxTransport,
    SmtpTransport,
    make_transport,
)

if TYPE_CHECKING:
    from support.smtp import TlsCert
    from support.smtp_loop import Call
    from support.smtp_loop import LoopSmtpServer as SmtpServer

    from tests.mail.conftest import MakeSettings, StartRawServer, StartSmtpServer

OWNER = "owner@example.org"
SPONSOR = "sponsor@example.org"
PASSWORD = "s3cret-Pa55word"


def make_message(n: int = 1, to: str = OWNER, message_id: str | None = None) -> OutgoingMessage:
    message = EmailMessage()
    message["From"] = "Contract tracker <tracker@example.org>"
    message["To"] = to
    message["Subject"] = f"CT-{n:03d} extension notice due in 30 days"
    message["Message-ID"] = message_id or f"<reminder-{n}.lead-30@tracker.example.org>"
    message.set_content(f"Reminder number {n}.\n")
    return OutgoingMessage.from_email(message)


# ------------------------------------------------------------------------ delivered


async def test_delivers_one_message(smtp_server: SmtpServer, smtp_settings: MakeSettings) -> None:
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        outcomes = await transport.send(make_message(), [OWNER])

    assert outcomes[OWNER].outcome is Outcome.SENT
    assert outcomes[OWNER].reply.startswith("250 2.0.0 OK queued as 1")
    [received] = smtp_server.messages
    assert received.rcpt_tos == [OWNER]
    assert received.mail_from == "tracker@example.org"
    assert received.message["Subject"] == "CT-001 extension notice due in 30 days"
    assert received.message["Message-ID"] == "<reminder-1.lead-30@tracker.example.org>"


async def test_batch_of_50_uses_one_connection(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        results = [await transport.send(make_message(n), [OWNER]) for n in range(50)]

    assert all(result[OWNER].outcome is Outcome.SENT for result in results)
    assert smtp_server.connections == 1
    assert [r.message["Subject"][:6] for r in smtp_server.messages] == [
        f"CT-{n:03d}" for n in range(50)
    ]


async def test_550_for_one_of_two_recipients_delivers_the_other(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    smtp_server.behaviour = lambda call: (
        "550 5.1.1 no such user" if call.address == SPONSOR else None
    )
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        outcomes = await transport.send(make_message(), [OWNER, SPONSOR])

    assert outcomes[OWNER].outcome is Outcome.SENT
    assert outcomes[SPONSOR].outcome is Outcome.PERMANENT
    assert outcomes[SPONSOR].reply == "550 5.1.1 no such user"
    assert [r.rcpt_tos for r in smtp_server.messages] == [[OWNER]]


async def test_none_never_upgrades_even_when_starttls_is_offered(
    start_smtp_server: StartSmtpServer, smtp_settings: MakeSettings, tls_cert: TlsCert
) -> None:
    """aiosmtplib 3+ upgrades whenever STARTTLS is offered unless told not to; the
    self-signed certificate would then fail. ``none`` must mean none."""
    server = await start_smtp_server(tls_context=tls_cert.server_context())
    async with SmtpTransport(smtp_settings(server.host, server.port)) as transport:
        outcomes = await transport.send(make_message(), [OWNER])
    assert outcomes[OWNER].outcome is Outcome.SENT


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_with_a_trusted_certificate_delivers(
    start_smtp_server: StartSmtpServer,
    smtp_settings: MakeSettings,
    tls_cert: TlsCert,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    """An operator with a private CA trusts it through SSL_CERT_FILE; login goes over TLS."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert.certfile))
    context = tls_cert.server_context()
    if security == "tls":
        # aiosmtpd 1.4 counts only STARTTLS as TLS for auth_require_tls.
        server = await start_smtp_server(
            tls=context, auth_require_tls=False, authenticator=_accept_only("tracker")
        )
    else:
        server = await start_smtp_server(
            tls_context=context, require_starttls=True, authenticator=_accept_only("tracker")
        )
    settings = smtp_settings(
        server.host,
        server.port,
        smtp_security=security,
        smtp_username="tracker",
        smtp_password=PASSWORD,
    )
    async with SmtpTransport(settings) as transport:
        outcomes = await transport.send(make_message(), [OWNER])
    assert outcomes[OWNER].outcome is Outcome.SENT
    assert len(server.messages) == 1


async def test_login_with_good_credentials_delivers(
    start_smtp_server: StartSmtpServer, smtp_settings: MakeSettings
) -> None:
    server = await start_smtp_server(auth_require_tls=False, authenticator=_accept_only("tracker"))
    settings = smtp_settings(
        server.host, server.port, smtp_username="tracker", smtp_password=PASSWORD
    )
    async with SmtpTransport(settings) as transport:
        outcomes = await transport.send(make_message(), [OWNER])
    assert outcomes[OWNER].outcome is Outcome.SENT


# ------------------------------------------------------------------ server replies


@pytest.mark.parametrize(
    ("command", "reply", "outcome"),
    [
        ("RCPT", "451 4.3.0 try again later", Outcome.TEMPORARY),
        ("DATA", "451 4.3.0 try again later", Outcome.TEMPORARY),
        ("RCPT", "550 5.1.1 no such user", Outcome.PERMANENT),
        ("DATA", "552 5.3.4 message too big", Outcome.PERMANENT),
        ("MAIL", "452 4.3.1 insufficient system storage", Outcome.TEMPORARY),
        ("MAIL", "552 5.3.4 message too big", Outcome.PERMANENT),
        ("DATA", "421 4.3.2 shutting down", Outcome.TEMPORARY),
    ],
)
async def test_server_reply_decides_the_outcome(
    smtp_server: SmtpServer,
    smtp_settings: MakeSettings,
    command: str,
    reply: str,
    outcome: Outcome,
) -> None:
    def behaviour(call: Call) -> str | None:
        return reply if call.command == command and call.number == 1 else None

    smtp_server.behaviour = behaviour
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        first = await transport.send(make_message(1), [OWNER])
        second = await transport.send(make_message(2), [OWNER])

    assert first[OWNER].outcome is outcome
    assert first[OWNER].reply == reply
    # The batch goes on after a refused message (a 421 closes the connection: one reconnect).
    assert second[OWNER].outcome is Outcome.SENT
    assert [r.message["Subject"][:6] for r in smtp_server.messages] == ["CT-002"]


async def test_421_greeting_is_temporary(
    start_raw_server: StartRawServer, smtp_settings: MakeSettings
) -> None:
    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"421 4.3.2 service not available\r\n")
        await writer.drain()

    host, port = await start_raw_server(busy)
    async with SmtpTransport(smtp_settings(host, port)) as transport:
        outcomes = await transport.send(make_message(), [OWNER, SPONSOR])

    assert {o.outcome for o in outcomes.values()} == {Outcome.TEMPORARY}
    assert outcomes[OWNER].reply == "421 4.3.2 service not available"


# -------------------------------------------------------------- connection faults


async def test_connection_refused_is_temporary_and_not_retried_per_message(
    closed_port: int, smtp_settings: MakeSettings
) -> None:
    async with SmtpTransport(smtp_settings("127.0.0.1", closed_port)) as transport:
        first = await transport.send(make_message(1), [OWNER])
        second = await transport.send(make_message(2), [OWNER])

    assert first[OWNER].outcome is Outcome.TEMPORARY
    assert first[OWNER].reply == f"connection refused by 127.0.0.1:{closed_port}"
    assert second[OWNER].outcome is Outcome.TEMPORARY
    assert second[OWNER].reply == first[OWNER].reply  # no second attempt in this batch


async def test_silent_server_times_out(
    start_raw_server: StartRawServer, smtp_settings: MakeSettings
) -> None:
    connections = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # never answers; returns when the client hangs up

    host, port = await start_raw_server(silent)
    started = time.monotonic()
    async with SmtpTransport(smtp_settings(host, port, smtp_timeout=1)) as transport:
        first = await transport.send(make_message(1), [OWNER])
        second = await transport.send(make_message(2), [OWNER])

    assert first[OWNER].outcome is Outcome.TEMPORARY
    assert first[OWNER].reply == f"timed out after 1s talking to {host}:{port}"
    assert second[OWNER].outcome is Outcome.TEMPORARY  # without waiting another second
    assert connections == 1
    assert time.monotonic() - started < 3


async def test_drop_before_data_reply_is_temporary_and_the_batch_reconnects(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    smtp_server.behaviour = lambda call: (
        smtp_server.DROP if call.command == "DATA" and call.number == 2 else None
    )
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        outcomes = [await transport.send(make_message(n), [OWNER]) for n in (1, 2, 3)]

    assert [o[OWNER].outcome for o in outcomes] == [
        Outcome.SENT,
        Outcome.TEMPORARY,
        Outcome.SENT,
    ]
    assert "lost" in outcomes[1][OWNER].reply
    assert f"{smtp_server.host}:{smtp_server.port}" in outcomes[1][OWNER].reply
    assert smtp_server.connections == 2
    assert [r.message["Subject"][:6] for r in smtp_server.messages] == ["CT-001", "CT-003"]


async def test_a_server_that_keeps_dropping_is_not_hammered(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    smtp_server.behaviour = lambda call: smtp_server.DROP if call.command == "DATA" else None
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        outcomes = [await transport.send(make_message(n), [OWNER]) for n in range(5)]

    assert {o[OWNER].outcome for o in outcomes} == {Outcome.TEMPORARY}
    assert outcomes[-1][OWNER].reply.startswith("not attempted:")
    assert smtp_server.connections == 2  # the batch's connection, and one reconnect


async def test_a_server_closing_idle_connections_is_reconnected_transparently(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    """Servers close idle connections while the sweep works on the database."""
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        first = await transport.send(make_message(1), [OWNER])
        smtp_server.close_connections()
        await asyncio.sleep(0.05)
        second = await transport.send(make_message(2), [OWNER])
        smtp_server.close_connections()
        await asyncio.sleep(0.05)
        third = await transport.send(make_message(3), [OWNER])

    assert [o[OWNER].outcome for o in (first, second, third)] == [Outcome.SENT] * 3
    assert smtp_server.connections == 3
    assert len(smtp_server.messages) == 3


# ------------------------------------------------------------ operator errors


async def test_rejected_login_is_a_config_error_naming_the_user_not_the_password(
    start_smtp_server: StartSmtpServer, smtp_settings: MakeSettings
) -> None:
    server = await start_smtp_server(auth_require_tls=False, authenticator=_reject_all)
    settings = smtp_settings(
        server.host, server.port, smtp_username="tracker@x", smtp_password=PASSWORD
    )
    with pytest.raises(MailConfigError) as caught:
        async with SmtpTransport(settings):
            pass

    text = str(caught.value)
    assert text == (
        f"SMTP login to 127.0.0.1:{server.port} as tracker@x failed"
        " (535 5.7.8 Authentication credentials invalid):"
        " check TRACKER_SMTP_USERNAME and TRACKER_SMTP_PASSWORD"
    )
    assert PASSWORD not in text
    assert "\n" not in text
    assert server.messages == []


async def test_login_when_the_server_offers_no_auth_is_a_config_error(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    """aiosmtpd offers AUTH only over TLS by default: the classic "forgot STARTTLS"."""
    settings = smtp_settings(
        smtp_server.host, smtp_server.port, smtp_username="tracker", smtp_password=PASSWORD
    )
    with pytest.raises(MailConfigError, match=r"does not offer login \(AUTH\)"):
        async with SmtpTransport(settings):
            pass


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_self_signed_certificate_is_a_config_error(
    start_smtp_server: StartSmtpServer,
    smtp_settings: MakeSettings,
    tls_cert: TlsCert,
    security: str,
) -> None:
    """A certificate the system does not trust will not start trusting itself on retry."""
    context = tls_cert.server_context()
    if security == "tls":
        server = await start_smtp_server(tls=context)
    else:
        server = await start_smtp_server(tls_context=context)
    settings = smtp_settings(server.host, server.port, smtp_security=security)
    with pytest.raises(MailConfigError) as caught:
        async with SmtpTransport(settings):
            pass

    assert str(caught.value).startswith(
        f"TLS with SMTP server 127.0.0.1:{server.port} failed"
        " (certificate verify failed: self-signed certificate)"
    )
    assert server.messages == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_self_signed_certificate_is_accepted_only_when_verification_is_turned_off(
    start_smtp_server: StartSmtpServer,
    smtp_settings: MakeSettings,
    tls_cert: TlsCert,
    security: str,
) -> None:
    """TRACKER_SMTP_TLS_VERIFY=false is the explicit, operator-made exception."""
    context = tls_cert.server_context()
    if security == "tls":
        server = await start_smtp_server(tls=context)
    else:
        server = await start_smtp_server(tls_context=context)
    settings = smtp_settings(
        server.host, server.port, smtp_security=security, smtp_tls_verify=False
    )
    async with SmtpTransport(settings) as transport:
        outcomes = await transport.send(make_message(), [OWNER])

    assert outcomes[OWNER].ok
    assert len(server.messages) == 1


async def test_tls_against_a_plain_server_is_a_config_error(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    settings = smtp_settings(smtp_server.host, smtp_server.port, smtp_security="tls")
    with pytest.raises(MailConfigError, match="check TRACKER_SMTP_SECURITY and TRACKER_SMTP_PORT"):
        async with SmtpTransport(settings):
            pass


async def test_starttls_not_offered_is_a_config_error(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    settings = smtp_settings(smtp_server.host, smtp_server.port, smtp_security="starttls")
    with pytest.raises(MailConfigError, match="does not offer STARTTLS"):
        async with SmtpTransport(settings):
            pass


async def test_refused_sender_is_a_config_error(
    smtp_server: SmtpServer, smtp_settings: MakeSettings
) -> None:
    """Every message would fail the same way: keep the reminders, name TRACKER_MAIL_FROM."""
    smtp_server.behaviour = lambda call: (
        "553 5.7.1 sender not owned by user" if call.command == "MAIL" else None
    )
    async with SmtpTransport(smtp_settings(smtp_server.host, smtp_server.port)) as transport:
        with pytest.raises(MailConfigError) as caught:
            await transport.send(make_message(), [OWNER])

    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{smtp_server.port} refused the sender tracker@example.org"
        " (553 5.7.1 sender not owned by user): check TRACKER_MAIL_FROM"
    )


async def test_send_outside_a_batch_is_a_programming_error(smtp_settings: MakeSettings) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await SmtpTransport(smtp_settings()).send(make_message(), [OWNER])


# ------------------------------------------------------------------------- outbox


async def test_outbox_writes_parseable_eml_files(tmp_path: Path) -> None:
    outbox = tmp_path / "new" / "outbox"
    async with OutboxTransport(outbox) as transport:
        outcomes = await transport.send(make_message(), [OWNER, SPONSOR])

    files = sorted(outbox.iterdir())
    assert len(files) == 2
    assert all(f.suffix == ".eml" for f in files)
    for recipient, outcome in outcomes.items():
        assert outcome.outcome is Outcome.SENT
        path = Path(outcome.reply.removeprefix("written to "))
        assert path in files
        assert recipient in path.name
        parsed = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
        assert parsed["Subject"] == "CT-001 extension notice due in 30 days"
        # The file holds the wire bytes, CRLF line ends included (RFC 5322's form).
        assert parsed.get_content() == "Reminder number 1.\r\n"


async def test_outbox_resend_overwrites(tmp_path: Path) -> None:
    async with OutboxTransport(tmp_path) as transport:
        first = await transport.send(make_message(), [OWNER])
        again = await transport.send(make_message(), [OWNER])
        other = await transport.send(make_message(message_id="<other/id@x>"), [OWNER])

    assert first == again
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2  # the resend replaced its file; no temporary files left
    assert all("/" not in name and not name.startswith(".") for name in names)
    assert other[OWNER].reply != first[OWNER].reply


async def test_outbox_unwritable_folder_is_temporary(tmp_path: Path) -> None:
    """A path under a regular file (chmod would not stop root, who runs these tests)."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    async with OutboxTransport(blocker / "outbox") as transport:
        outcomes = await transport.send(make_message(), [OWNER])

    assert outcomes[OWNER].outcome is Outcome.TEMPORARY
    assert "Not a directory" in outcomes[OWNER].reply or "File exists" in outcomes[OWNER].reply
    assert str(blocker) in outcomes[OWNER].reply


def test_make_transport_chooses_by_smtp_host(smtp_settings: MakeSettings, tmp_path: Path) -> None:
    assert isinstance(make_transport(smtp_settings("mail.example.org", 587)), SmtpTransport)
    outbox = make_transport(smtp_settings(None, outbox_dir=tmp_path / "out"))
    assert isinstance(outbox, OutboxTransport)
    assert outbox.directory == tmp_path / "out"
    assert not os.path.exists(tmp_path / "out")  # created on the first write, not before


# ------------------------------------------------------------------------ helpers


def _accept_only(username: str) -> object:
    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


def _reject_all(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
) -> AuthResult:
    return AuthResult(success=False, handled=False)
