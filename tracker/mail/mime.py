"""Write a ``multipart/alternative`` email straight to wire bytes.

Every tracker email has the same shape: a handful of one-line headers, a plain-text
part and an HTML part. Building that through :class:`email.message.EmailMessage` and
flattening it again in the SMTP client cost ~3 ms per message, more than sending it
(benchmark 2 in ``bench/``); writing the bytes here costs a tenth of that. The pieces
that need care still come from the standard library: non-ASCII header values
are encoded by :class:`email.header.Header` (RFC 2047; an address that is not ASCII
goes raw under SMTPUTF8), bodies are quoted-printable by :func:`binascii.b2a_qp`.
Tests parse the bytes back with the :mod:`email` parser, as a mail client would.

Header values must already be one safe line (see ``tracker.mail.render.header_text``):
this module refuses a value with a line break rather than trust it.
"""

from __future__ import annotations

import binascii
import email
import email.policy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage

#: RFC 5322's recommended line length; shorter ASCII headers go out as they are.
_FOLD_AT = 78

#: Headers holding one address: raw UTF-8 when not ASCII (encoded words are not
#: allowed inside an address).
_ADDRESS_HEADERS = frozenset({"From", "To"})

#: Longest word an ASCII header may carry unencoded: lines stay under RFC 5322's 998.
_WORD_LIMIT = 900

_PART_HEADERS = (
    b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
)


@dataclass(frozen=True)
class OutgoingMessage:
    """One email as it goes on the wire (CRLF line ends), with what sending needs to know.

    ``smtputf8`` is set when an address is not ASCII: its headers are then raw UTF-8
    (RFC 6532), and the server must offer SMTPUTF8 to take it.
    """

    message_id: str
    subject: str
    data: bytes
    smtputf8: bool = False

    def parsed(self) -> EmailMessage:
        """The message as a mail client reads it (tests, and tools that inspect a message):
        line ends become the local ``\\n``, as they do when a client stores a message."""
        lines = self.data.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(lines, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    @classmethod
    def from_email(cls, message: EmailMessage) -> OutgoingMessage:
        """Wrap a message built with the :mod:`email` package (for callers that have one)."""
        addresses = f"{message.get('From', '')}{message.get('To', '')}"
        smtputf8 = not addresses.isascii()
        policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
        return cls(
            message_id=str(message.get("Message-ID", "")).strip(),
            subject=str(message.get("Subject", "")),
            data=message.as_bytes(policy=policy),
            smtputf8=smtputf8,
        )


def write_alternative(
    headers: Sequence[tuple[str, str]], *, message_id: str, subject: str, text: str, html: str
) -> OutgoingMessage:
    """Headers in the order given, then ``text`` and ``html`` as the two alternatives.

    ``headers`` must include From, To, Subject, Date and Message-ID; MIME-Version and
    Content-Type are added here. The boundary is derived from the Message-ID, so the
    same message is the same bytes when it is built again (a resend after a crash);
    it starts with ``=_``, which quoted-printable text can never contain.
    """
    smtputf8 = not all(value.isascii() for name, value in headers if name in ("From", "To"))
    boundary = "=_ct_" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]
    lines = [_header(name, value, smtputf8) for name, value in headers]
    lines.append(b"MIME-Version: 1.0\r\n")
    lines.append(f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode())
    # The CRLF before a boundary belongs to the boundary (RFC 2046), so each part's own
    # last line break is kept by writing one more.
    for number, (subtype, body) in enumerate(((b"plain", text), (b"html", html))):
        lines.append(f"{'' if number == 0 else chr(13) + chr(10)}--{boundary}\r\n".encode())
        lines.append(_PART_HEADERS % subtype)
        lines.append(_quoted_printable(body))
    lines.append(f"\r\n--{boundary}--\r\n".encode())
    return OutgoingMessage(message_id, subject, b"".join(lines), smtputf8)


def _header(name: str, value: str, smtputf8: bool) -> bytes:
    """``Name: value`` CRLF, folded at spaces to 78 columns where it can be.

    ASCII values are folded here. A non-ASCII address goes raw (UTF-8, RFC 6532: the
    message is then SMTPUTF8); any other non-ASCII value, or a word too long for a line
    (RFC 5322's hard limit is 998), becomes RFC 2047 encoded words, the whole value
    encoded so that every space survives (the policy folder drops spaces between
    encoded words).
    """
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name} holds a line break")
    if value.isascii() and (len(name) + 2 + len(value) <= _FOLD_AT or _foldable(value)):
        return _fold_ascii(f"{name}: {value}", len(name) + 1).encode("ascii")
    if smtputf8 and name in _ADDRESS_HEADERS:
        return f"{name}: {value}\r\n".encode()
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def _foldable(value: str) -> bool:
    return all(len(word) <= _WORD_LIMIT for word in value.split(" "))


def _fold_ascii(line: str, after: int) -> str:
    """Break before the last space that keeps each line within 78 columns.

    Never at or before ``after`` (the space after ``Name:``): the value starts on the
    header's own line, or a reader would see it begin with a space.
    """
    lines = []
    while len(line) > _FOLD_AT:
        cut = line.rfind(" ", after + 1, _FOLD_AT + 1)
        if cut < 0:
            cut = line.find(" ", max(after + 1, _FOLD_AT + 1))  # one long word: its own line
            if cut < 0:
                break
        lines.append(line[:cut])
        line = line[cut:]  # the space starts the continuation line
        after = 0
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def _quoted_printable(body: str) -> bytes:
    """``body`` as UTF-8 quoted-printable with CRLF line ends, ending in a line break."""
    encoded = binascii.b2a_qp(body.encode("utf-8", "replace"), istext=True)
    if not encoded.endswith(b"\n"):
        encoded += b"\n"
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
