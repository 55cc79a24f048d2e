"""The sign-in seam's own rules: where sign-in may send a person back to, who is an
admin, and that each purpose has its own key."""

from __future__ import annotations

import pytest

from tracker.errors import ConfigError
from tracker.settings import load_settings
from tracker.web.auth import safe_next, session_key


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/contracts/LANCS-DRIVE", "/contracts/LANCS-DRIVE"),
        ("/register?owner=a%40b.org&page=2", "/register?owner=a%40b.org&page=2"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("contracts", "/"),
    ],
)
def test_after_sign_in_only_a_path_on_this_site(asked: str | None, sent_to: str) -> None:
    assert safe_next(asked) == sent_to


def test_admins_come_from_a_comma_separated_setting_lower_cased(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACKER_ADMINS", " CFO@Lancashire-OPCC.example.org,ops@example.org ,")
    assert load_settings().admins == ("cfo@lancashire-opcc.example.org", "ops@example.org")
    monkeypatch.delenv("TRACKER_ADMINS")
    assert load_settings().admins == ()


def test_a_bad_admin_address_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_ADMINS", "ops@example.org,not an address")
    with pytest.raises(ConfigError, match=r"admins.*not an address"):
        load_settings()


def test_the_session_key_is_its_own_purpose() -> None:
    assert session_key("s3cret") != session_key("s3cret2")
    assert "s3cret" not in session_key("s3cret")
