"""The reminder email: what it says, in both parts, and that no field can forge a header.

One whole-text snapshot (``snapshots/reminder.txt``) pins the plain-text layout of the
Lancashire reminder; the other tests assert the facts a commissioner acts on.
"""

from __future__ import annotations

import dataclasses
import difflib
import email
import email.policy
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from tracker.mail import reminder as build
from tracker.mail.model import DecisionLink, GapRow, ReminderEmail
from tracker.mail.reminder import render_reminder
from tracker.mail.render import subject_line

SNAPSHOTS = Path(__file__).parent / "snapshots"


def build_reminder(reminder: ReminderEmail) -> EmailMessage:
    """The reminder's wire bytes, parsed back as a mail client reads them."""
    return build.build_reminder(reminder).parsed()


#: The top-level headers a reminder has: anything else was injected.
EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "x-tracker-ref",
    "mime-version",
    "content-type",
}

EVIL = "X\r\nBcc: evil@example.org"


def lancashire(**changes: object) -> ReminderEmail:
    """The Lancashire DRIVE extension-notice reminder to its owner, 28 days before."""
    reminder = ReminderEmail(
        message_id="<r123.abc@contract-tracker>",
        sent_at=datetime(2024, 9, 2, 8, 0, tzinfo=UTC),
        mail_from="tracker@opcc.example.org",
        recipient="policy.partnerships@lancashire-opcc.example.org",
        role="owner",
        ref="LANCS-DRIVE",
        contract_title=(
            "Drive domestic abuse perpetrator behaviour change programme (West Lancashire)"
        ),
        provider="Victim Support",
        contract_end=date(2025, 3, 31),
        kind="extension_notice",
        kind_label="Extension notice",
        milestone_title="Extension notice: activate the option to 31 Mar 2026 or plan the exit",
        milestone_note=None,
        due=date(2024, 9, 30),
        days_left=28,
        lead=30,
        is_nag=False,
        if_missed="the option lapses and the contract ends on its current end date",
        staffing_at_risk=True,
        staffing_summary=(
            "AT STAFFING RISK since 30 Jun 2024: 210 days to the end (31 Mar 2025) "
            "and the extension notice is not done"
        ),
        gaps=(
            GapRow(
                year="2023/24",
                cost=None,
                secured=Decimal("266362.00"),
                at_risk=Decimal("0.00"),
                gap=None,
            ),
            GapRow(
                year="2024/25",
                cost=None,
                secured=Decimal("399543.00"),
                at_risk=Decimal("0.00"),
                gap=None,
            ),
            GapRow(
                year="2025/26",
                cost=Decimal("298403.22"),
                secured=Decimal("0.00"),
                at_risk=Decimal("0.00"),
                gap=Decimal("298403.22"),
            ),
        ),
        done_command="tracker milestone done LANCS-DRIVE extension_notice",
        snooze_command=(
            'tracker milestone snooze LANCS-DRIVE extension_notice --until DATE --note "..."'
        ),
    )
    return dataclasses.replace(reminder, **changes)  # type: ignore[arg-type]


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def assert_in_both(msg: EmailMessage, text: str) -> None:
    """``text`` is in the plain part and (HTML-escaped where needed) in the HTML part."""
    assert text in text_part(msg), f"{text!r} not in the text part"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = html_part(msg)
    assert text in html or escaped in html, f"{text!r} not in the HTML part"


def reparsed(msg: EmailMessage) -> Message:
    """The message as a receiving server reads it: from the bytes we would send."""
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def flat(text: str) -> str:
    """``text`` with its line wrapping undone, to look for a sentence wherever it wraps."""
    return " ".join(text.split())


def header_names(msg: Message) -> set[str]:
    return {name.lower() for name in msg}


# -- content ---------------------------------------------------------------------------


def test_key_facts_are_in_both_parts() -> None:
    msg = build_reminder(lancashire())
    assert_in_both(msg, "£298,403.22")
    assert_in_both(msg, "£266,362.00")
    assert_in_both(msg, "cost unknown")
    assert_in_both(msg, "30 Sep 2024")
    assert_in_both(msg, "in 28 days")
    assert_in_both(msg, "tracker milestone done LANCS-DRIVE extension_notice")
    assert_in_both(msg, "tracker milestone snooze LANCS-DRIVE extension_notice --until DATE")
    assert_in_both(msg, "AT STAFFING RISK")
    assert_in_both(msg, "If it is missed, the option lapses")
    assert_in_both(msg, "Victim Support")
    assert_in_both(msg, "You are the owner of LANCS-DRIVE")
    assert_in_both(msg, "Sent by contract-tracker")


def test_headers() -> None:
    msg = build_reminder(lancashire())
    assert msg["Subject"] == "LANCS-DRIVE: Extension notice due 30 Sep 2024 (in 28 days)"
    assert msg["Message-ID"] == "<r123.abc@contract-tracker>"
    assert msg["Date"] == "Mon, 02 Sep 2024 08:00:00 +0000"
    assert msg["From"] == "tracker@opcc.example.org"
    assert msg["To"] == "policy.partnerships@lancashire-opcc.example.org"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Tracker-Ref"] == "LANCS-DRIVE"

    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received["Message-ID"] == "<r123.abc@contract-tracker>"
    assert str(received["Subject"]).startswith("LANCS-DRIVE:")
    assert received.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.iter_parts()]  # type: ignore[attr-defined]
    assert parts == ["text/plain", "text/html"]


def test_text_part_matches_snapshot() -> None:
    """The whole plain text, exactly: layout changes are reviewed as a snapshot diff."""
    assert_matches_snapshot(text_part(build_reminder(lancashire())), "reminder.txt")


LINK = "https://tracker.example.org/act/"


def test_text_part_with_links_matches_snapshot() -> None:
    """With TRACKER_BASE_URL set: Mark done and Snooze as whole URLs, the contract's page
    ("Open in the browser"), and who to ask."""
    email = lancashire(
        done_url=LINK + "done-token",
        snooze_url=LINK + "snooze-token",
        page_url="https://tracker.example.org/contracts/LANCS-DRIVE",
        ask_to_change="cfo@lancashire-opcc.example.org",
    )
    message = build_reminder(email)
    assert_matches_snapshot(text_part(message), "reminder_links.txt")
    html = html_part(message)
    assert f'href="{LINK}done-token"' in html and ">Mark done</a>" in html
    assert f'href="{LINK}snooze-token"' in html and ">Snooze</a>" in html
    assert "tracker milestone done" not in html
    assert (
        'href="https://tracker.example.org/contracts/LANCS-DRIVE"' in html
        and ">Open in the browser</a>" in html
    )
    # A reminder is not a mailing list: no unsubscribe header.
    assert message["List-Unsubscribe"] is None


def escalation() -> ReminderEmail:
    """The last of four weekly nags about the Lancashire notice, the sponsor's copy."""
    return lancashire(
        recipient="cfo@lancashire-opcc.example.org",
        role="sponsor",
        days_left=-28,
        lead=-28,
        is_nag=True,
        nags_left=0,
        is_escalation=True,
        weeks_overdue=4,
        escalate_from=30,
    )


def test_escalation_text_part_matches_snapshot() -> None:
    assert_matches_snapshot(text_part(build_reminder(escalation())), "reminder_escalation.txt")


def assert_matches_snapshot(text: str, name: str) -> None:
    path = SNAPSHOTS / name
    if not path.exists():
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            path.write_text(text, encoding="utf-8", newline="\n")
        else:
            pytest.fail(f"{path} is missing: run with UPDATE_SNAPSHOTS=1 to write it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=str(path),
                tofile="rendered",
            )
        )
        pytest.fail(f"text part differs from the snapshot:\n{diff}")


def test_text_part_is_plain_and_narrow() -> None:
    text = text_part(build_reminder(lancashire()))
    assert "<" not in text and "&amp;" not in text and "&nbsp;" not in text
    commands = {lancashire().done_command, lancashire().snooze_command}
    for line in text.splitlines():
        # Commands stay whole so they can be copied; everything else fits 72 columns.
        if line.strip() not in commands:
            assert len(line) <= 72, line


def test_html_is_self_contained_and_inlined() -> None:
    html = html_part(build_reminder(lancashire()))
    assert "<style" not in html  # moved onto the elements for clients that drop it
    assert 'style="' in html
    for external in ("<img", "<script", "<link", "@import", "url("):
        assert external not in html
    assert 'class="risk"' in html
    assert "<pre" in html


def test_gap_table_in_html() -> None:
    html = html_part(build_reminder(lancashire()))
    for heading in ("Year", "Cost", "Secured", "At risk", "Gap"):
        assert f">{heading}</th>" in html
    # The shortfall is red; the unknown costs are not dressed up as numbers.
    assert "#b42318" in html.split("£298,403.22</td>")[-2].rsplit("<td", 1)[-1]


def test_nag() -> None:
    msg = build_reminder(lancashire(days_left=-7, lead=-7, is_nag=True, nags_left=3))
    assert msg["Subject"] == (
        "LANCS-DRIVE: OVERDUE Extension notice was due 30 Sep 2024 (7 days ago)"
    )
    assert_in_both(msg, "7 days overdue")
    assert_in_both(msg, "This reminder repeats until the milestone is marked done")
    assert_in_both(msg, "at most 3 more times; after that it stays in the digest")
    text = text_part(msg)
    assert text.startswith(
        "OVERDUE: Extension notice for LANCS-DRIVE was due on 30 Sep 2024, 7 days\nago.\n"
    )
    assert "\nWas due:  30 Sep 2024 (7 days overdue)\n" in text
    assert "Overdue: Extension notice</h1>" in html_part(msg)


def test_the_last_nag_says_it_is_the_last() -> None:
    msg = build_reminder(lancashire(days_left=-28, lead=-28, is_nag=True, nags_left=0))
    assert msg["Subject"].startswith("LANCS-DRIVE: OVERDUE Extension notice")
    assert_in_both(msg, "This is the last reminder about it: no more emails will be sent")
    assert "repeats" not in text_part(msg)
    assert "ESCALATION" not in text_part(msg)  # the owner's copy: the sponsor is told


def test_escalation_tells_the_sponsor_the_decision_is_weeks_overdue() -> None:
    msg = build_reminder(escalation())
    assert msg["Subject"] == (
        "LANCS-DRIVE: ESCALATION Extension notice 4 weeks overdue, no decision "
        "(was due 30 Sep 2024)"
    )
    assert_in_both(msg, "this decision is now 4 weeks overdue with no answer")
    assert "The reminders to its owner have stopped" in " ".join(text_part(msg).split())
    assert "The reminders to its owner have stopped" in html_part(msg)
    assert "You are copied as the contract" not in text_part(msg)
    # With no sponsor the owner's copy says it, to the owner.
    alone = build_reminder(dataclasses.replace(escalation(), role="owner"))
    assert "The reminders to you have stopped" in " ".join(text_part(alone).split())


def test_sponsor_copy() -> None:
    msg = build_reminder(
        lancashire(role="sponsor", recipient="cfo@lancashire-opcc.example.org", escalate_from=30)
    )
    assert msg["Subject"] == "LANCS-DRIVE: Extension notice due 30 Sep 2024 (in 28 days)"
    assert msg["To"] == "cfo@lancashire-opcc.example.org"
    assert_in_both(msg, "You are copied as the contract")
    assert text_part(msg).startswith(
        "You are copied as the contract's sponsor (escalation from 30 days\nbefore).\n"
    )
    assert "sponsor (escalation from 30 days before)" in html_part(msg)
    assert_in_both(msg, "You are the sponsor of LANCS-DRIVE")
    assert "You are the owner" not in text_part(msg)


@pytest.mark.parametrize(
    ("days_left", "phrase"),
    [(3, "in 3 days"), (1, "tomorrow"), (0, "today"), (-1, "1 day overdue")],
)
def test_days_phrases(days_left: int, phrase: str) -> None:
    assert_in_both(build_reminder(lancashire(days_left=days_left)), phrase)


def test_optional_sections() -> None:
    full = lancashire(
        milestone_note="falls on a Sunday: serve notice by the working day before",
        warnings=("Stated value £665,905.00 but funding lines sum to £665,904.00 (£1.00 less)",),
        decision_links=(
            DecisionLink(label="Decision 20/2024", url="https://pcc.example.org/d/20-2024"),
        ),
        gaps=(
            GapRow(
                year="2025/26",
                cost=Decimal("10.00"),
                secured=Decimal("15.00"),
                at_risk=Decimal("0"),
                gap=Decimal(-5),
            ),
        ),
        staffing_at_risk=False,
        staffing_summary="Not at staffing risk: 400 days to the end",
    )
    msg = build_reminder(full)
    assert_in_both(msg, "falls on a Sunday")
    assert_in_both(msg, "(£1.00 less)")
    assert_in_both(msg, "surplus £5.00")
    assert_in_both(msg, "Decision 20/2024")
    assert 'href="https://pcc.example.org/d/20-2024"' in html_part(msg)
    assert 'class="risk"' not in html_part(msg)

    bare = build_reminder(lancashire(gaps=(), done_command="", snooze_command=""))
    assert "Funding by financial year" not in text_part(bare)
    assert "Funding by financial year" not in html_part(bare)
    assert "What to do" not in text_part(bare)


def test_unsafe_link_is_not_a_link() -> None:
    msg = build_reminder(
        lancashire(decision_links=(DecisionLink(label="Record", url="javascript:alert(1)"),))
    )
    assert "href" not in html_part(msg)
    assert_in_both(msg, "javascript:alert(1)")


# -- hostile input ---------------------------------------------------------------------


def test_script_is_escaped_in_html_and_literal_in_text() -> None:
    script = "<script>alert(1)</script>"
    msg = build_reminder(lancashire(contract_title=script, milestone_title=script))
    html = html_part(msg)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert text_part(msg).count(script) == 2


@pytest.mark.parametrize("field", ["ref", "contract_title", "provider", "kind_label"])
def test_no_header_injection(field: str) -> None:
    msg = build_reminder(lancashire(**{field: EVIL}))
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received["Bcc"] is None
    head = msg.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and not head.startswith(b"Bcc:")
    subject = str(received["Subject"])
    assert "\r" not in subject and "\n" not in subject
    assert "\r" not in str(received["X-Tracker-Ref"])


def test_injection_through_addresses_and_message_id() -> None:
    msg = build_reminder(lancashire(recipient="a@example.org" + EVIL, message_id="<r1@ct>" + EVIL))
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received["Bcc"] is None


def test_template_syntax_in_data_stays_literal() -> None:
    baseline = build_reminder(lancashire())
    msg = build_reminder(lancashire(contract_title="{{ 7*7 }}", milestone_title="{% if 1 %}x"))
    assert_in_both(msg, "{{ 7*7 }}")
    assert_in_both(msg, "{% if 1 %}x")
    assert text_part(msg).count("49") == text_part(baseline).count("49")
    assert html_part(msg).count("49") == html_part(baseline).count("49")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085", "\u202e", "\x00", "\x1b", "\ud800"])
def test_separators_and_bidi_controls_do_not_break_headers(char: str) -> None:
    msg = build_reminder(
        lancashire(ref=f"LANCS{char}DRIVE", contract_title=f"Drive{char}Bcc: evil@example.org")
    )
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    for name in ("Subject", "X-Tracker-Ref"):
        value = str(received[name])
        assert char not in value
        assert value.isprintable()
    assert char not in text_part(msg)
    assert str(received["X-Tracker-Ref"]) == "LANCS DRIVE"


def test_long_fields_give_a_bounded_subject() -> None:
    msg = build_reminder(lancashire(contract_title="x" * 5000, kind_label="Decision " * 600))
    subject = str(reparsed(msg)["Subject"])
    assert len(subject) <= 150
    assert subject.startswith("LANCS-DRIVE: ")
    assert subject.endswith("…")
    assert "\n" not in subject


def test_subject_line_cuts_at_a_word() -> None:
    assert subject_line("a\r\nb") == "a b"
    assert subject_line("word " * 100, limit=20) == "word word word word…"
    assert len(subject_line("y" * 500)) == 150


def test_render_returns_the_three_parts() -> None:
    rendered = render_reminder(lancashire())
    assert rendered.subject.startswith("LANCS-DRIVE:")
    assert rendered.text.endswith("Sent by contract-tracker.\n")
    assert rendered.html.lstrip().lower().startswith("<!doctype html>")
