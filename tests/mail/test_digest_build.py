"""The digest email: what it says, in both parts and in order, and that no field can forge a header.

One whole-text snapshot (``snapshots/digest.txt``) pins the plain-text layout of
Olivia's weekly digest; the other tests assert the facts a commissioner acts on.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from test_build import EVIL, flat, header_names, html_part, reparsed, text_part

from tracker.mail import digest as digest_build
from tracker.mail.digest import render_digest
from tracker.mail.model import (
    DigestChange,
    DigestContract,
    DigestEmail,
    DigestFailure,
    DigestItem,
    GapRow,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"


def build_digest(digest: DigestEmail) -> EmailMessage:
    """The digest's wire bytes, parsed back as a mail client reads them."""
    return digest_build.build_digest(digest).parsed()


#: The top-level headers a digest has: anything else was injected.
EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
}

DRIVE_TITLE = "Drive domestic abuse perpetrator behaviour change programme (West Lancashire)"

#: The section headings, in the order the digest must show them.
SECTIONS = (
    "Overdue decisions",
    "Decisions due in the next 8 weeks",
    "Staffing risk",
    "Funding gaps by financial year",
    "Contracts ending within 12 months",
    "What changed in the last 7 days",
    "Failed deliveries since the last digest",
)


def publication(**changes: object) -> DigestItem:
    """The overdue award publication of LANCS-DRIVE: not snoozed, no staffing flag."""
    overdue = extension_notice(
        kind="publication",
        kind_label="Publication",
        title="Publish the contract award notice on Contracts Finder",
        due=date(2024, 8, 26),
        days_left=-7,
        if_missed="the authority breaches its transparency duty under the Procurement Act",
        close_command="tracker milestone done LANCS-DRIVE publication",
        snooze_command="tracker milestone snooze LANCS-DRIVE publication --until DATE",
        snoozed_until=None,
        snooze_note=None,
        staffing_at_risk=False,
    )
    return dataclasses.replace(overdue, **changes)  # type: ignore[arg-type]


def extension_notice(**changes: object) -> DigestItem:
    """The upcoming extension notice of LANCS-DRIVE, snoozed with a note."""
    item = DigestItem(
        ref="LANCS-DRIVE",
        contract_title=DRIVE_TITLE,
        kind="extension_notice",
        kind_label="Extension notice",
        title="Extension notice: activate the option to 31 Mar 2026 or plan the exit",
        due=date(2024, 9, 30),
        days_left=28,
        if_missed="the option lapses and the contract ends on its current end date",
        close_command="tracker milestone done LANCS-DRIVE extension_notice",
        snooze_command="tracker milestone snooze LANCS-DRIVE extension_notice --until DATE",
        snoozed_until=date(2024, 9, 16),
        snooze_note="waiting for the Commissioner's decision at the 12 Sep board",
        staffing_at_risk=True,
    )
    return dataclasses.replace(item, **changes)  # type: ignore[arg-type]


def drive(**changes: object) -> DigestContract:
    """LANCS-DRIVE as the contract sections show it: a gap in 2025/26, at staffing risk."""
    contract = DigestContract(
        ref="LANCS-DRIVE",
        title=DRIVE_TITLE,
        provider="Victim Support",
        end=date(2025, 3, 31),
        days_to_end=210,
        role="owner",
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
        warnings=(
            "Stated total £964,308.22 but funding lines sum to £665,905.00 (£298,403.22 less)",
        ),
    )
    return dataclasses.replace(contract, **changes)  # type: ignore[arg-type]


def olivia(**changes: object) -> DigestEmail:
    """Olivia's weekly digest: she owns LANCS-DRIVE, and every section has something."""
    digest = DigestEmail(
        message_id="<d42.abc@contract-tracker>",
        sent_at=datetime(2024, 9, 2, 7, 0, tzinfo=UTC),
        mail_from="tracker@opcc.example.org",
        recipient="olivia.hart@lancashire-opcc.example.org",
        period_label="week of 2 Sep 2024",
        frequency="weekly",
        overdue=(publication(),),
        upcoming=(extension_notice(),),
        funding=(drive(),),
        staffing=(drive(),),
        ending=(drive(),),
        changes=(
            DigestChange(
                at=datetime(2024, 8, 28, 13, 5, tzinfo=UTC),
                ref="LANCS-DRIVE",
                detail="Extension notice snoozed until 16 Sep 2024 by olivia",
            ),
            DigestChange(
                at=datetime(2024, 8, 30, 8, 40, tzinfo=UTC),
                ref="LANCS-DRIVE",
                detail="Funding line added: 2024/25 Home Office grant £399,543.00",
            ),
        ),
        failures=(
            DigestFailure(
                at=datetime(2024, 8, 30, 7, 0, tzinfo=UTC),
                ref="LANCS-DRIVE",
                kind="extension_notice reminder",
                recipient="o.hart@lancashire-opcc.example.org",
                reply="550 5.1.1 no such user",
            ),
        ),
    )
    return dataclasses.replace(digest, **changes)  # type: ignore[arg-type]


def empty(**changes: object) -> DigestEmail:
    """Olivia's digest in a week when nothing at all is due, at risk or changed."""
    sections = ("overdue", "upcoming", "funding", "staffing", "ending", "changes", "failures")
    return olivia(**{**dict.fromkeys(sections, ()), **changes})


def assert_in_both(msg: EmailMessage, text: str) -> None:
    """``text`` is in the plain part and, HTML-escaped, in the HTML part, however wrapped.

    Unlike the reminder's helper this ignores line breaks: digest items are indented
    blocks, so a phrase often wraps onto the next line.
    """
    assert flat(text) in flat(text_part(msg)), f"{text!r} not in the text part"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    html = flat(html_part(msg))
    assert flat(text) in html or flat(escaped) in html, f"{text!r} not in the HTML part"


def positions(haystack: str, needles: tuple[str, ...]) -> list[int]:
    """Where each needle first occurs; every one must occur."""
    found = [haystack.find(needle) for needle in needles]
    assert -1 not in found, dict(zip(needles, found, strict=True))
    return found


# -- content ---------------------------------------------------------------------------


def test_key_facts_are_in_both_parts() -> None:
    msg = build_digest(olivia())
    for fact in (
        "£298,403.22",
        "£266,362.00",
        "cost unknown",
        "26 Aug 2024",
        "7 days overdue",
        "30 Sep 2024",
        "in 28 days",
        "Publication",
        "Extension notice",
        "Publish the contract award notice on Contracts Finder",
        DRIVE_TITLE,
        "the option lapses and the contract ends on its current end date.",
        "tracker milestone done LANCS-DRIVE publication",
        "tracker milestone done LANCS-DRIVE extension_notice",
        "AT STAFFING RISK since 30 Jun 2024",
        "(£298,403.22 less)",
        "31 Mar 2025",
        "in 210 days",
        "Victim Support",
        "Funding line added: 2024/25 Home Office grant £399,543.00",
        "o.hart@lancashire-opcc.example.org",
        "550 5.1.1 no such user",
        "because you own, sponsor or watch these contracts",
        "tracker recipient set olivia.hart@lancashire-opcc.example.org --digest weekly|daily|off",
        "Sent by contract-tracker",
    ):
        assert_in_both(msg, fact)


def test_change_and_failure_times_are_london_time() -> None:
    """13:05 UTC on 28 Aug is 14:05 in London (BST): readers think in local time."""
    msg = build_digest(olivia())
    assert_in_both(msg, "28 Aug 2024 14:05")
    assert_in_both(msg, "30 Aug 2024 09:40")
    assert_in_both(msg, "30 Aug 2024 08:00")
    winter = DigestChange(
        at=datetime(2024, 12, 2, 9, 30, tzinfo=UTC), ref="LANCS-DRIVE", detail="x"
    )
    assert_in_both(build_digest(olivia(changes=(winter,))), "2 Dec 2024 09:30")


def test_headers() -> None:
    msg = build_digest(olivia())
    assert msg["Subject"] == (
        "Contract decisions: 1 overdue, 1 due in the next 8 weeks (week of 2 Sep 2024)"
    )
    assert msg["Message-ID"] == "<d42.abc@contract-tracker>"
    assert msg["Date"] == "Mon, 02 Sep 2024 07:00:00 +0000"
    assert msg["From"] == "tracker@opcc.example.org"
    assert msg["To"] == "olivia.hart@lancashire-opcc.example.org"
    assert msg["Auto-Submitted"] == "auto-generated"

    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.iter_parts()]  # type: ignore[attr-defined]
    assert parts == ["text/plain", "text/html"]


def test_subject_counts() -> None:
    two_overdue = olivia(overdue=(publication(), publication(ref="LANCS-IDVA")), upcoming=())
    assert render_digest(two_overdue).subject == (
        "Contract decisions: 2 overdue (week of 2 Sep 2024)"
    )
    upcoming_only = olivia(overdue=(), upcoming=(extension_notice(),) * 3)
    assert render_digest(upcoming_only).subject == (
        "Contract decisions: 3 due in the next 8 weeks (week of 2 Sep 2024)"
    )
    daily = olivia(frequency="daily", period_label="2 Sep 2024")
    assert render_digest(daily).subject.endswith("(2 Sep 2024)")
    assert "Your daily contract digest" in render_digest(daily).text


def test_empty_digest_says_nothing_due() -> None:
    rendered = render_digest(empty())
    assert rendered.subject == "Contract digest: nothing due (week of 2 Sep 2024)"
    assert "Nothing on your contracts is overdue" in flat(rendered.text)
    assert "Nothing on your contracts is overdue" in flat(rendered.html)
    for heading in SECTIONS:
        assert heading not in rendered.text
        assert heading not in rendered.html
    assert rendered.text.endswith("Sent by contract-tracker.\n")


def test_no_decisions_but_other_news_says_nothing_due() -> None:
    rendered = render_digest(empty(changes=olivia().changes))
    assert rendered.subject == "Contract digest: nothing due (week of 2 Sep 2024)"
    assert "What changed in the last 7 days" in rendered.text
    assert "Nothing on your contracts" not in rendered.text


def test_sections_come_in_order() -> None:
    rendered = render_digest(olivia())
    for part in (rendered.text, rendered.html):
        found = positions(part, SECTIONS)
        assert found == sorted(found)


@pytest.mark.parametrize("missing", range(len(SECTIONS)))
def test_an_empty_section_is_left_out(missing: int) -> None:
    field = ("overdue", "upcoming", "staffing", "funding", "ending", "changes", "failures")[missing]
    rendered = render_digest(olivia(**{field: ()}))
    for number, heading in enumerate(SECTIONS):
        present = number != missing
        assert (heading in rendered.text) is present, heading
        assert (heading in rendered.html) is present, heading


def test_items_keep_their_order() -> None:
    """The lists arrive sorted by urgency; the builder must not re-sort them."""
    worst = publication(ref="AAA-WORST", days_left=-30, due=date(2024, 8, 3))
    later = publication(ref="ZZZ-LATER", days_left=-2, due=date(2024, 8, 31))
    soon = extension_notice(ref="ZZZ-SOON", days_left=3, due=date(2024, 9, 5))
    far = extension_notice(ref="AAA-FAR", days_left=50, due=date(2024, 10, 22))
    rendered = render_digest(olivia(overdue=(worst, later), upcoming=(soon, far)))
    for part in (rendered.text, rendered.html):
        found = positions(part, ("AAA-WORST", "ZZZ-LATER", "ZZZ-SOON", "AAA-FAR"))
        assert found == sorted(found)


def test_snoozed_item_is_marked() -> None:
    msg = build_digest(olivia())
    assert_in_both(msg, "SNOOZED until 16 Sep 2024")
    assert_in_both(msg, "waiting for the Commissioner's decision at the 12 Sep board")
    # Only the snoozed item is marked: the overdue publication is not snoozed.
    assert text_part(msg).count("SNOOZED") == 1
    assert html_part(msg).count("SNOOZED") == 1
    unsnoozed = olivia(upcoming=(extension_notice(snoozed_until=None, snooze_note=None),))
    assert "SNOOZED" not in render_digest(unsnoozed).text
    assert "SNOOZED" not in render_digest(unsnoozed).html


def test_text_part_matches_snapshot() -> None:
    """The whole plain text, exactly: layout changes are reviewed as a snapshot diff."""
    assert_snapshot(text_part(build_digest(olivia())), "digest.txt")


BASE = "https://tracker.example.org"


def test_text_part_with_links_matches_snapshot() -> None:
    """With TRACKER_BASE_URL set: each item's Mark done, Snooze and Open in the browser
    (the contract's page), the Digest settings
    link in the footer, and RFC 8058 one-click opt-out headers."""

    def linked(item: DigestItem, name: str) -> DigestItem:
        return dataclasses.replace(
            item,
            done_url=f"{BASE}/act/{name}-done",
            snooze_url=f"{BASE}/act/{name}-snooze",
            page_url=f"{BASE}/contracts/{item.ref}",
        )

    email = olivia(
        overdue=(linked(publication(), "publication"),),
        upcoming=(linked(extension_notice(), "notice"),),
        settings_url=f"{BASE}/digest/settings-token",
    )
    msg = build_digest(email)
    assert_snapshot(text_part(msg), "digest_links.txt")
    assert msg["List-Unsubscribe"] == f"<{BASE}/digest/settings-token>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = html_part(msg)
    assert f'href="{BASE}/act/notice-done"' in html and ">Digest settings</a>" in html
    assert "tracker recipient set" not in html
    assert f'href="{BASE}/contracts/LANCS-DRIVE"' in html and ">Open in the browser</a>" in html
    assert build_digest(olivia())["List-Unsubscribe"] is None


def assert_snapshot(text: str, name: str) -> None:
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
    text = text_part(build_digest(olivia()))
    assert "<" not in text and "&amp;" not in text and "&nbsp;" not in text
    assert "&middot;" not in text and "{{" not in text and "{%" not in text
    for line in text.splitlines():
        # Commands stay whole so they can be copied; everything else fits 72 columns.
        if not line.strip().startswith("tracker "):
            assert len(line) <= 72, line


def test_html_is_self_contained_and_inlined() -> None:
    html = html_part(build_digest(olivia()))
    assert "<style" not in html
    assert 'style="' in html
    for external in ("<img", "<script", "<link", "@import", "url("):
        assert external not in html
    assert html.count("<pre") == 2  # one close command per decision
    assert 'class="staffing"' in html


def test_gap_table_in_html() -> None:
    html = html_part(build_digest(olivia()))
    for heading in ("Year", "Cost", "Secured", "At risk", "Gap"):
        assert f">{heading}</th>" in html
    # The gap cell is red; the cost cell with the same amount is not.
    row = html.split(">2025/26</td>")[1].split("</tr>")[0]
    cost_cell, *_, gap_cell = row.split("</td>")[:-1]
    assert "#b42318" in gap_cell and "£298,403.22" in gap_cell
    assert "#b42318" not in cost_cell


def test_surplus_and_no_gap_are_not_red() -> None:
    rows = (
        GapRow(
            year="2025/26",
            cost=Decimal("10.00"),
            secured=Decimal("15.00"),
            at_risk=Decimal("0"),
            gap=Decimal("-5"),
        ),
        GapRow(
            year="2026/27",
            cost=Decimal("10.00"),
            secured=Decimal("10.00"),
            at_risk=Decimal("0"),
            gap=Decimal("0"),
        ),
    )
    msg = build_digest(olivia(funding=(drive(gaps=rows, warnings=()),)))
    assert_in_both(msg, "surplus £5.00")
    assert_in_both(msg, "none")
    funding = html_part(msg).split("Funding gaps by financial year")[1].split("<h2")[0]
    assert "#b42318" not in funding


# -- hostile input ---------------------------------------------------------------------


def test_script_is_escaped_in_html_and_literal_in_text() -> None:
    script = "<script>alert(1)</script>"
    msg = build_digest(
        olivia(
            upcoming=(extension_notice(title=script, snooze_note=script),),
            changes=(
                DigestChange(
                    at=datetime(2024, 8, 30, tzinfo=UTC), ref="LANCS-DRIVE", detail=script
                ),
            ),
        )
    )
    html = html_part(msg)
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3
    assert "<script" not in html.lower()
    assert text_part(msg).count(script) == 3


def test_template_syntax_in_data_stays_literal() -> None:
    baseline = build_digest(olivia())
    msg = build_digest(olivia(upcoming=(extension_notice(title="{{ 7*7 }} {% if 1 %}x"),)))
    assert_in_both(msg, "{{ 7*7 }} {% if 1 %}x")
    assert text_part(msg).count("49") == text_part(baseline).count("49")
    assert html_part(msg).count("49") == html_part(baseline).count("49")


def test_bcc_in_a_ref_never_becomes_a_header() -> None:
    msg = build_digest(
        olivia(
            overdue=(publication(ref=EVIL, kind_label=EVIL),),
            funding=(drive(ref=EVIL),),
            period_label="week of 2 Sep 2024" + EVIL,
        )
    )
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received["Bcc"] is None
    head = msg.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and not head.startswith(b"Bcc:")
    subject = str(received["Subject"])
    assert "\r" not in subject and "\n" not in subject
    # In the bodies the ref is one harmless line, never a line that starts with Bcc:.
    assert_in_both(msg, "X Bcc: evil@example.org")
    assert not any(line.startswith("Bcc:") for line in text_part(msg).splitlines())


def test_injection_through_addresses_and_message_id() -> None:
    msg = build_digest(
        olivia(recipient="a@example.org" + EVIL, message_id="<d1@ct>" + EVIL, mail_from=EVIL)
    )
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    assert received["Bcc"] is None


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085", "\u202e", "\x00", "\x1b", "\ud800"])
def test_separators_and_bidi_controls_are_removed(char: str) -> None:
    msg = build_digest(
        olivia(
            period_label=f"week of{char}2 Sep 2024",
            overdue=(publication(ref=f"LANCS{char}DRIVE", title=f"Publish{char}Bcc: x"),),
        )
    )
    received = reparsed(msg)
    assert header_names(received) == EXPECTED_HEADERS
    subject = str(received["Subject"])
    assert char not in subject and subject.isprintable()
    assert char not in text_part(msg)
    assert "LANCS DRIVE" in text_part(msg)


def test_a_snooze_note_keeps_its_lines_but_not_its_controls() -> None:
    note = "waiting for the board\r\nthen legal\u2028sign-off\x1b"
    text = render_digest(olivia(upcoming=(extension_notice(snooze_note=note),))).text
    assert "waiting for the board\n" in text
    assert "then legal sign-off" in text
    assert "\x1b" not in text and "\u2028" not in text


def test_render_returns_the_three_parts() -> None:
    rendered = render_digest(olivia())
    assert rendered.subject.startswith("Contract decisions:")
    assert rendered.text.endswith("Sent by contract-tracker.\n")
    assert rendered.html.lstrip().lower().startswith("<!doctype html>")
