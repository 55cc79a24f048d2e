"""``header_text`` finds unsafe characters with one regex (it runs on every string of
every email and digest); the regex must refuse exactly what ``_is_unsafe`` refuses."""

from __future__ import annotations

from tracker.mail.render import _UNSAFE, _is_unsafe, header_text


def test_regex_matches_the_per_character_rule_for_every_code_point() -> None:
    differ = [
        hex(code)
        for code in range(0x110000)
        if bool(_UNSAFE.match(chr(code))) != _is_unsafe(chr(code))
    ]
    assert differ == []


def test_header_text_still_flattens_hostile_text() -> None:
    assert header_text("X\r\nBcc: evil@example.org") == "X Bcc: evil@example.org"
    assert header_text("a\u2028b\u202ec\u200fd\x85e") == "a b c d e"
    assert header_text("  plain   text ") == "plain text"
