"""The wire writer: whatever the text, a mail client parses back exactly what was written."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.mail.mime import OutgoingMessage, write_alternative
from tracker.mail.render import header_text

DATE = format_datetime(datetime(2024, 9, 2, 8, 0, tzinfo=UTC))

#: Body text as templates produce it: any characters but CR (bodies use ``\n``).
bodies = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"))
#: Header values as the builder passes them: cleaned to one line, never empty here.
header_values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).map(header_text)


def message(
    subject: str = "LANCS-DRIVE: Extension notice due 30 Sep 2024",
    text: str = "Due.\n",
    html: str = "<p>Due.</p>\n",
    to: str = "owner@example.org",
    ref: str = "LANCS-DRIVE",
) -> OutgoingMessage:
    headers = [
        ("From", "tracker@opcc.example.org"),
        ("To", to),
        ("Subject", subject),
        ("Date", DATE),
        ("Message-ID", "<r1.abc@contract-tracker>"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Tracker-Ref", ref),
    ]
    return write_alternative(
        headers, message_id="<r1.abc@contract-tracker>", subject=subject, text=text, html=html
    )


def parts(built: OutgoingMessage) -> tuple[str, str]:
    parsed = built.parsed()
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and rich is not None
    return str(plain.get_content()), str(rich.get_content())


def test_shape_and_headers() -> None:
    built = message()
    parsed = built.parsed()
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "LANCS-DRIVE: Extension notice due 30 Sep 2024"
    assert parsed["Message-ID"] == "<r1.abc@contract-tracker>"
    assert parsed["X-Tracker-Ref"] == "LANCS-DRIVE"
    assert parsed["MIME-Version"] == "1.0"
    assert parts(built) == ("Due.\n", "<p>Due.</p>\n")
    assert not built.smtputf8
    assert built.data.endswith(b"--\r\n")
    assert b"\n" not in built.data.replace(b"\r\n", b"")  # CRLF only, as SMTP wants


def test_same_message_same_bytes() -> None:
    """A resend after a crash is byte-for-byte the message first sent."""
    assert message().data == message().data
    assert message(text="other\n").data != message().data


def test_a_long_ascii_subject_folds_at_a_space_and_reads_back_whole() -> None:
    subject = "LANCS-DRIVE: OVERDUE Extension notice was due 30 Sep 2024 (7 days ago) " * 2
    built = message(subject=subject.strip())
    head = built.data.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert built.parsed()["Subject"] == subject.strip()


def test_a_non_ascii_address_makes_an_smtputf8_message() -> None:
    built = message(to="jöe@exämple.org")
    assert built.smtputf8
    assert "To: jöe@exämple.org\r\n".encode() in built.data
    assert built.parsed()["To"] == "jöe@exämple.org"


def test_a_header_value_with_a_line_break_is_refused() -> None:
    try:
        message(subject="X\r\nBcc: evil@example.org")
    except ValueError as error:
        assert "Subject" in str(error)
    else:
        raise AssertionError("a line break reached a header")


@settings(max_examples=300, deadline=None)
@given(text=bodies, html=bodies)
def test_any_body_reads_back_exactly(text: str, html: str) -> None:
    """Dots and ``From`` at line starts, trailing spaces, ``=_`` and non-ASCII survive."""
    built = message(text=text, html=html)
    plain, rich = parts(built)
    # The writer ends each part with a line break; nothing else changes.
    assert plain == (text if text.endswith("\n") else text + "\n")
    assert rich == (html if html.endswith("\n") else html + "\n")
    assert all(len(line) <= 78 for line in built.data.split(b"\r\n")[12:])


@settings(max_examples=300, deadline=None)
@given(subject=header_values, ref=header_values)
def test_any_cleaned_header_value_reads_back_and_stays_one_header(subject: str, ref: str) -> None:
    built = message(subject=subject or "x", ref=ref or "x")
    parsed = built.parsed()
    assert parsed["Subject"] == (subject or "x")
    assert parsed["X-Tracker-Ref"] == (ref or "x")
    names = [name.lower() for name in parsed]
    assert len(names) == len(set(names))  # nothing injected a second header
    assert all(len(line) <= 998 for line in built.data.split(b"\r\n"))
