"""Delivering built messages: over SMTP, or as ``.eml`` files in an outbox folder.

A transport is opened once per batch (``async with transport:``) and reports one
:class:`~tracker.mail.model.DeliveryOutcome` per recipient, so the sweep can record
exactly what happened to each reminder:

* ``SENT`` -- the server accepted the message for that recipient (or the file is written).
* ``TEMPORARY`` -- worth retrying later: a 4xx reply, a refused, dropped or silent
  connection, an unwritable outbox folder.
* ``PERMANENT`` -- give up: a 5xx reply about this message or this recipient.

Anything that no retry can fix because the *operator* got the settings wrong -- bad
credentials, a certificate the server cannot be trusted with, a server that offers no
STARTTLS or no AUTH, a refused sender address -- raises :class:`MailConfigError`
instead. Marking every reminder failed in that case would throw the reminders away;
the sweep stops the batch and keeps them for when the settings are fixed.

Only the sweep imports this module (``tracker --help`` must not pay for aiosmtplib).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn, Protocol, Self, TypeVar

import aiosmtplib

from tracker.errors import TrackerError
from tracker.mail.mime import OutgoingMessage
from tracker.mail.model import DeliveryOutcome, Outcome

if TYPE_CHECKING:
    from tracker.settings import Settings

__all__ = [
    "MailConfigError",
    "OutboxTransport",
    "SmtpTransport",
    "Transport",
    "make_transport",
]


_E = TypeVar("_E", bound=BaseException)


class MailConfigError(TrackerError):
    """The mail settings are wrong (login, TLS, sender): no retry helps until they are fixed.

    The text is one line naming the setting to check; it never contains the password.
    """


class Transport(Protocol):
    """Where messages go. ``async with`` spans one batch; :meth:`send` may be called many times."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...

    async def send(
        self, message: OutgoingMessage, recipients: Sequence[str]
    ) -> dict[str, DeliveryOutcome]:
        """Deliver ``message`` to each recipient; one outcome per (distinct) recipient.

        Raises :class:`MailConfigError` only for operator errors; every delivery
        failure is an outcome.
        """
        ...


def make_transport(settings: Settings) -> Transport:
    """SMTP when ``smtp_host`` is set, else the outbox folder (the embedded default)."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return OutboxTransport(settings.resolved_outbox_dir())


# --------------------------------------------------------------------------- SMTP


class _ConnectionFailed(Exception):
    """Internal: the connection could not be opened or was lost; ``reply`` says why."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def _one_line(text: str) -> str:
    """Server replies may span lines; the history keeps one line per attempt."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _reply(code: int, message: str) -> str:
    return f"{code} {_one_line(message)}".strip()


def _outcome_for_code(code: int, message: str) -> DeliveryOutcome:
    """4xx (and anything odd) may succeed later; only a 5xx is final."""
    outcome = Outcome.PERMANENT if 500 <= code < 600 else Outcome.TEMPORARY
    return DeliveryOutcome(outcome, _reply(code, message))


def _find_cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``exc``'s cause/context chain (aiosmtplib wraps OSErrors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class SmtpTransport:
    """Sends over one SMTP connection per batch, reconnecting once after a drop.

    Connection-level trouble never raises: the message being sent gets ``TEMPORARY``
    (it may or may not have arrived; SMTP cannot tell, and retrying is the only way
    never to lose it) and the next :meth:`send` opens a new connection. A server that
    closed an idle connection is simply reconnected. But if a reconnected connection
    fails again before the server answered anything on it, or if the batch's first
    connection cannot be opened at all, the server counts as down for the rest of the
    batch: further messages get ``TEMPORARY`` at once, so a dead or silent server costs
    at most two connection attempts (two timeouts) per batch, not one per message.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs settings.smtp_host")
        self._host: str = settings.smtp_host
        self._port = settings.smtp_port
        self._security = settings.smtp_security
        self._timeout = settings.smtp_timeout
        self._username = settings.smtp_username or None
        self._password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        self._sender = settings.mail_from
        self._verify = settings.smtp_tls_verify
        self._ca_file = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
        self._smtp: aiosmtplib.SMTP | None = None
        self._entered = False
        # Set: the server is unreachable for the rest of the batch; the reply every
        # further message gets, without another connection attempt.
        self._down: str | None = None
        self._may_reconnect = False  # a reconnect is allowed only after progress
        self._ever_connected = False
        self._lock = asyncio.Lock()

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    # -- batch lifecycle

    async def __aenter__(self) -> Self:
        """Open the batch's connection; an unreachable server is reported per message, not raised."""
        self._entered = True
        self._down = None
        self._may_reconnect = False
        self._ever_connected = False
        try:
            await self._connect()
        except MailConfigError:
            self._entered = False  # __aexit__ will not run
            raise
        except _ConnectionFailed as failed:
            # Nothing was dropped mid-batch: the server is just not there. Do not
            # hammer it with a connection attempt per message.
            self._down = failed.reply
        else:
            self._may_reconnect = True  # the batch's own connection may be reopened once
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Say QUIT politely; a failure to do so changes nothing about what was delivered."""
        self._entered = False
        self._down = None
        await self._disconnect(polite=True)

    # -- sending

    async def send(
        self, message: OutgoingMessage, recipients: Sequence[str]
    ) -> dict[str, DeliveryOutcome]:
        """Run one SMTP transaction for ``message``; see the module docstring for outcomes."""
        if not self._entered:
            raise RuntimeError("use `async with transport:` around send()")
        wanted = list(dict.fromkeys(recipients))
        if not wanted:
            return {}
        async with self._lock:
            try:
                smtp = await self._ready()
            except _ConnectionFailed as failed:
                return self._all(wanted, DeliveryOutcome(Outcome.TEMPORARY, failed.reply))
            return await self._transaction(smtp, message, wanted)

    async def _ready(self) -> aiosmtplib.SMTP:
        """The open connection, or a new one when the last was lost and a reconnect is allowed."""
        if self._down is not None:
            raise _ConnectionFailed(self._down)
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        await self._disconnect(polite=False)
        if self._ever_connected and not self._may_reconnect:
            self._down = (
                f"not attempted: the connection to {self._where} failed twice without"
                " a reply; giving up for this batch"
            )
            raise _ConnectionFailed(self._down)
        self._may_reconnect = False
        try:
            return await self._connect()
        except _ConnectionFailed as failed:
            self._down = failed.reply
            raise

    async def _transaction(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, wanted: list[str]
    ) -> dict[str, DeliveryOutcome]:
        try:
            # The bytes are sent as built: no second flattening of a MIME tree per message.
            refused, data_reply = await smtp.sendmail(
                self._sender,
                wanted,
                message.data,
                mail_options=_mail_options(message, [self._sender, *wanted]),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self._may_reconnect = True
            by_address = {err.recipient: err for err in exc.recipients}
            return {
                address: _outcome_for_code(by_address[address].code, by_address[address].message)
                if address in by_address
                else DeliveryOutcome(Outcome.TEMPORARY, "not delivered: every recipient refused")
                for address in wanted
            }
        except aiosmtplib.SMTPSenderRefused as exc:
            self._may_reconnect = True
            return self._all(wanted, self._sender_refused(exc))
        except aiosmtplib.SMTPResponseException as exc:
            # DATA refused (552 too big, 451 try later...) or a 421 shutdown mid-transaction.
            self._may_reconnect = True
            return self._all(wanted, _outcome_for_code(exc.code, exc.message))
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. a non-ASCII address and no SMTPUTF8: this server never will.
            self._may_reconnect = True
            return self._all(wanted, DeliveryOutcome(Outcome.PERMANENT, _one_line(str(exc))))
        except ValueError as exc:
            # aiosmtplib refuses an address it cannot put on the wire safely.
            return self._all(
                wanted,
                DeliveryOutcome(Outcome.PERMANENT, f"invalid address: {_one_line(str(exc))}"),
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Dropped or silent connection: the message may or may not have arrived;
            # SMTP cannot tell, so it is retried (the only way to never lose it).
            await self._disconnect(polite=False)
            return self._all(wanted, DeliveryOutcome(Outcome.TEMPORARY, self._describe(exc)))
        self._may_reconnect = True
        sent = DeliveryOutcome(Outcome.SENT, _reply(250, data_reply))
        return {
            address: _outcome_for_code(refused[address].code, refused[address].message)
            if address in refused
            else sent
            for address in wanted
        }

    # -- connecting

    async def _connect(self) -> aiosmtplib.SMTP:
        """Connect, upgrade and log in, step by step so each failure is named precisely.

        ``start_tls=False`` matters for ``none``: aiosmtplib 3+ otherwise upgrades
        whenever the server offers STARTTLS, and then fails on its certificate.
        """
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._security == "tls",
            start_tls=False,
            timeout=self._timeout,
            validate_certs=self._verify,
            cert_bundle=self._ca_file,
        )
        self._smtp = smtp
        try:
            await smtp.connect()
            if self._security == "starttls":
                await self._starttls(smtp)
            if self._username is not None:
                await self._login(smtp, self._username)
        except MailConfigError:
            await self._disconnect(polite=False)
            raise
        except ssl.SSLError as exc:  # STARTTLS handshake errors arrive unwrapped
            await self._disconnect(polite=False)
            self._raise_tls(exc)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._disconnect(polite=False)
            tls_error = _find_cause(exc, ssl.SSLError)
            if tls_error is not None:
                self._raise_tls(tls_error)
            raise _ConnectionFailed(self._describe(exc)) from exc
        self._ever_connected = True
        return smtp

    async def _starttls(self, smtp: aiosmtplib.SMTP) -> None:
        await smtp.ehlo()
        if not smtp.supports_extension("starttls"):
            raise MailConfigError(
                f"SMTP server {self._where} does not offer STARTTLS: check TRACKER_SMTP_SECURITY"
                " (tls for an implicit-TLS port such as 465, none only for a trusted relay)"
            )
        await smtp.starttls()

    async def _login(self, smtp: aiosmtplib.SMTP, username: str) -> None:
        await smtp.ehlo()
        if not smtp.supports_extension("auth"):
            plain = " on an unencrypted connection" if self._security == "none" else ""
            raise MailConfigError(
                f"SMTP server {self._where} does not offer login (AUTH){plain}: check"
                " TRACKER_SMTP_SECURITY, or unset TRACKER_SMTP_USERNAME if it needs no login"
            )
        try:
            await smtp.login(username, self._password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            if not 500 <= exc.code < 600:
                raise  # 454 temporary authentication failure: a connection-level retry
            raise MailConfigError(
                self._scrub(
                    f"SMTP login to {self._where} as {username} failed"
                    f" ({_reply(exc.code, exc.message)}): check TRACKER_SMTP_USERNAME"
                    " and TRACKER_SMTP_PASSWORD"
                )
            ) from None

    async def _disconnect(self, *, polite: bool) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if polite and smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.quit(timeout=min(self._timeout, 5.0))
        smtp.close()

    # -- classification

    def _raise_tls(self, exc: ssl.SSLError) -> NoReturn:
        """A TLS failure is an operator error: wrong port/security, or an untrusted certificate."""
        if isinstance(exc, ssl.SSLCertVerificationError):
            reason = f"certificate verify failed: {exc.verify_message}"
            hint = (
                "the server's certificate is not trusted or does not match the host; check"
                " TRACKER_SMTP_HOST (or trust its CA through SSL_CERT_FILE)"
            )
        else:
            reason = _one_line(exc.reason or str(exc))
            hint = "check TRACKER_SMTP_SECURITY and TRACKER_SMTP_PORT"
        raise MailConfigError(
            f"TLS with SMTP server {self._where} failed ({reason}): {hint}"
        ) from None

    def _sender_refused(self, exc: aiosmtplib.SMTPSenderRefused) -> DeliveryOutcome:
        """A refused MAIL FROM is about the settings, except a size or a 4xx reply."""
        if exc.code < 500 or exc.code == 552:  # 552: this message is too big
            return _outcome_for_code(exc.code, exc.message)
        if exc.code == 530:
            hint = "check TRACKER_SMTP_USERNAME, TRACKER_SMTP_PASSWORD and TRACKER_SMTP_SECURITY"
        else:
            hint = "check TRACKER_MAIL_FROM"
        raise MailConfigError(
            f"SMTP server {self._where} refused the sender {self._sender}"
            f" ({_reply(exc.code, exc.message)}): {hint}"
        )

    def _describe(self, exc: BaseException) -> str:
        """One line for a connection-level failure, naming the server."""
        if isinstance(exc, TimeoutError):  # includes aiosmtplib.SMTPTimeoutError
            return f"timed out after {self._timeout:g}s talking to {self._where}"
        if isinstance(exc, aiosmtplib.SMTPResponseException):  # e.g. 421 greeting
            return _reply(exc.code, exc.message)
        if _find_cause(exc, ConnectionRefusedError) is not None:
            return f"connection refused by {self._where}"
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return f"connection to {self._where} lost: {_one_line(str(exc))}"
        os_error = _find_cause(exc, OSError)
        detail = _one_line(str(os_error if os_error is not None else exc))
        return f"cannot talk to {self._where}: {detail or type(exc).__name__}"

    def _scrub(self, text: str) -> str:
        """Belt and braces: whatever a server echoes, the password never reaches a log."""
        return text.replace(self._password, "***") if self._password else text

    @staticmethod
    def _all(wanted: list[str], outcome: DeliveryOutcome) -> dict[str, DeliveryOutcome]:
        return dict.fromkeys(wanted, outcome)


# ------------------------------------------------------------------------- outbox

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_MAX_PART = 100  # keeps the file name well under the usual 255-byte limit


def _mail_options(message: OutgoingMessage, addresses: Sequence[str]) -> list[str]:
    """SMTPUTF8 when an address or the headers need it (the server must then offer it)."""
    if message.smtputf8 or not all(address.isascii() for address in addresses):
        return ["SMTPUTF8"]
    return []


def _safe(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text).strip("._") or "_"
    return cleaned[:_MAX_PART]


class OutboxTransport:
    """Writes each message as ``<message-id>--<recipient>--<hash>.eml`` in a folder.

    The name depends only on the Message-ID and the recipient, so resending the same
    message (after a crash between writing and recording it) overwrites the file
    rather than adding a duplicate. The short hash keeps two ids that differ only in
    characters the file name cannot hold apart. Files are written to a temporary name
    and renamed, so a reader never sees half a message.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def path_for(self, message: OutgoingMessage, recipient: str) -> Path:
        """Where ``message`` for ``recipient`` is (or will be) written."""
        message_id = message.message_id.strip()
        if not message_id:  # the builder always sets one; this keeps resends idempotent anyway
            message_id = hashlib.sha256(message.data).hexdigest()[:32]
        key = f"{message_id}\0{recipient}".encode("utf-8", "surrogateescape")
        digest = hashlib.sha256(key).hexdigest()[:8]
        name = f"{_safe(message_id.strip('<>'))}--{_safe(recipient)}--{digest}.eml"
        return self.directory / name

    async def send(
        self, message: OutgoingMessage, recipients: Sequence[str]
    ) -> dict[str, DeliveryOutcome]:
        """One file per recipient; an unwritable folder is TEMPORARY (the operator can fix it)."""
        content = message.data
        outcomes: dict[str, DeliveryOutcome] = {}
        for recipient in dict.fromkeys(recipients):
            path = self.path_for(message, recipient)
            try:
                await asyncio.to_thread(_write_atomically, path, content)
            except OSError as exc:
                outcomes[recipient] = DeliveryOutcome(
                    Outcome.TEMPORARY, f"cannot write {path}: {_one_line(str(exc))}"
                )
            else:
                outcomes[recipient] = DeliveryOutcome(Outcome.SENT, f"written to {path}")
        return outcomes


def _write_atomically(path: Path, content: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".eml.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
