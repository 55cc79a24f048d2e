"""Parsing free text and small whole numbers from users and import files.

Text ends up in one-line CLI tables, email subjects and iCalendar lines, where a
stray newline or a bidi override can forge a header or make a row read differently
from what it holds. So one-line fields refuse every control character, line or
paragraph separator and bidi override; multi-line fields (notes) allow only newline
and tab. Everything is pure: no I/O, and every bad input raises ``InvalidValue``.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.errors import InvalidValue

#: Bidi embedding/override/isolate controls: they reorder what a reader sees ("Trojan Source").
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

#: Characters that end or break a line besides the C0/C1 controls (which include NEL, U+0085).
LINE_BREAKERS = frozenset({"\u2028", "\u2029"})

_ONE_LINE = "must be one line of text without control characters"
_MULTI_LINE = "must be text without control characters (newlines and tabs are allowed)"
_DIGITS = re.compile(r"[+-]?[0-9]{1,18}")

#: Default upper bound of ``parse_positive_int``: large enough for any count or day total.
DEFAULT_INT_MAXIMUM = 1_000_000_000


def is_unsafe_char(char: str, *, allow: frozenset[str] = frozenset()) -> bool:
    """True for a control character, line/paragraph separator or bidi control not in ``allow``."""
    if char in allow:
        return False
    return unicodedata.category(char) == "Cc" or char in LINE_BREAKERS or char in BIDI_CONTROLS


def has_unsafe_chars(text: str, *, allow: frozenset[str] = frozenset()) -> bool:
    """Whether ``text`` holds any character ``is_unsafe_char`` refuses (shared by all parsers)."""
    if text.isprintable():  # every character refused is a control, separator or format one
        return False
    return any(is_unsafe_char(char, allow=allow) for char in text)


def _as_text(value: object, field: str) -> str:
    """The raw string of a text value; ints are allowed because YAML reads ``ref: 2018`` as one."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(field, value, "must be text")
    return value if isinstance(value, str) else str(value)


def parse_text(
    value: object,
    field: str,
    *,
    required: bool = True,
    max_length: int = 200,
    multiline: bool = False,
) -> str:
    """A stripped, safe string: one line unless ``multiline`` (then ``\\n`` and tabs only).

    ``None`` counts as empty (YAML reads ``title:`` with nothing after it as null), so a
    required field says "must not be empty" rather than the puzzling "must be text".
    Windows line endings in multi-line text are normalised to ``\\n``.
    """
    if value is None:
        if required:
            raise InvalidValue(field, value, "must not be empty")
        return ""
    raw = _as_text(value, field)
    if multiline:
        raw = raw.replace("\r\n", "\n")
        if has_unsafe_chars(raw, allow=frozenset({"\n", "\t"})):
            raise InvalidValue(field, value, _MULTI_LINE)
    elif has_unsafe_chars(raw):
        raise InvalidValue(field, value, _ONE_LINE)
    text = raw.strip()
    if not text and required:
        raise InvalidValue(field, value, "must not be empty")
    if len(text) > max_length:
        raise InvalidValue(
            field, value, f"is too long ({len(text)} characters, limit {max_length})"
        )
    return text


def parse_optional_text(
    value: object, field: str, *, max_length: int = 200, multiline: bool = False
) -> str | None:
    """Like ``parse_text`` but absent, empty or blank text is ``None`` (the field is unset)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_text(value, field, required=True, max_length=max_length, multiline=multiline)


def parse_positive_int(
    value: object,
    field: str,
    *,
    minimum: int = 0,
    maximum: int = DEFAULT_INT_MAXIMUM,
) -> int:
    """A whole number in ``minimum..maximum`` from an int or a string of digits.

    Floats are refused even when whole (``3.0``): a count written with a decimal point
    is more likely a typo than an intention, and ``True`` is never silently ``1``.
    """
    number = _whole_number(value, field)
    if number < minimum:
        reason = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        raise InvalidValue(field, value, reason)
    if number > maximum:
        raise InvalidValue(field, value, f"must be at most {maximum}")
    return number


def _whole_number(value: object, field: str) -> int:
    """The int a value spells, before any range check."""
    if isinstance(value, bool):
        raise InvalidValue(field, value, "must be a whole number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise InvalidValue(field, value, "must be a whole number (no decimal point)")
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text):
            return int(text)
        if re.fullmatch(r"[+-]?[0-9]+", text):
            raise InvalidValue(field, value, "is too large")
    raise InvalidValue(field, value, "must be a whole number such as 30")


_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})


def parse_yes_no(value: object, field: str) -> bool:
    """A yes/no flag as YAML (true/false), a CSV cell or an option gives it: yes, no,
    true, false, y, n, 1, 0 (any case); a blank is no."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidValue(field, value, "is not yes or no")


def yes_no(flag: bool) -> str:
    """``yes`` or ``no``: how a flag is shown and exported (and read back)."""
    return "yes" if flag else "no"
