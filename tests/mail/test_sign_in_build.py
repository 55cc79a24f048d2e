"""The sign-in email: a whole-text snapshot (``snapshots/sign_in.txt``), the HTML's link,
and hostile input kept out of the headers."""

from __future__ import annotations

from datetime import UTC, datetime

from support.web import html_part, text_part
from test_build import assert_matches_snapshot

from tracker.mail.model import SignInEmail
from tracker.mail.sign_in import build_sign_in

URL = "https://tracker.example.org/sign-in/" + "t" * 43


def sign_in(**changes: object) -> SignInEmail:
    values: dict[str, object] = {
        "message_id": "<sign-in.1@lancashire-opcc.example.org>",
        "sent_at": datetime(2024, 9, 16, 9, 0, tzinfo=UTC),
        "mail_from": "contract-tracker@lancashire-opcc.example.org",
        "recipient": "policy.partnerships@lancashire-opcc.example.org",
        "url": URL,
        "minutes": 15,
        "expires_at": datetime(2024, 9, 16, 9, 15, tzinfo=UTC),
    }
    values.update(changes)
    return SignInEmail(**values)  # type: ignore[arg-type]


def test_text_part_matches_snapshot() -> None:
    message = build_sign_in(sign_in()).parsed()
    assert_matches_snapshot(text_part(message), "sign_in.txt")
    assert message["Subject"] == "Sign in to contract-tracker"
    assert f'href="{URL}"' in html_part(message)
    assert "10:15" in text_part(message)  # London time, BST


def test_a_hostile_recipient_cannot_add_a_header() -> None:
    message = build_sign_in(sign_in(recipient="a@b.org\r\nBcc: evil@example.org")).parsed()
    assert message["Bcc"] is None
