"""Parsing the email addresses of owners, sponsors and watchers.

Addresses go into SMTP headers, so anything that could smuggle a second header or
a second recipient (newlines, CR, U+2028/2029, commas, angle brackets, display
names) is refused before ``email_validator`` sees it; the library then checks the
syntax. Deliverability is not checked: parsing must work offline and stay pure.
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email

from tracker.domain.text import has_unsafe_chars
from tracker.errors import InvalidValue

_FORBIDDEN = frozenset(",<>;")
_INVALID = "is not a valid email address"


def parse_email(value: object, field: str) -> str:
    """One plain address (``name@example.org``), normalised to lower case.

    The whole address is lower-cased, not just the domain: mail systems treat the local
    part case-insensitively in practice, and one person must be one recipient (one
    digest, one opt-out), however their address was typed on each contract.
    """
    if not isinstance(value, str):
        raise InvalidValue(field, value, f"{_INVALID} (it must be text)")
    _refuse_unsafe(value, field)
    address = value.strip(" ")
    if not address:
        raise InvalidValue(field, value, f"{_INVALID} (it is empty)")
    if any(char.isspace() for char in address):
        raise InvalidValue(field, value, f"{_INVALID} (it contains a space)")
    try:
        return _validated(address)
    except EmailNotValidError as error:
        raise InvalidValue(field, value, f"{_INVALID} ({_short(error)})") from None
    except (ValueError, UnicodeError):  # idna can fail on odd domains outside the library's net
        raise InvalidValue(field, value, _INVALID) from None


@functools.lru_cache(maxsize=8192)
def _validated(address: str) -> str:
    """The library's check, remembered: an import names the same few thousand people on
    tens of thousands of contracts (a failure raises, and is not remembered)."""
    return validate_email(address, check_deliverability=False).normalized.lower()


def _refuse_unsafe(value: str, field: str) -> None:
    """Refuse header-injection characters and lists before the syntax check."""
    if has_unsafe_chars(value):
        raise InvalidValue(field, value, f"{_INVALID} (it contains a control character)")
    if any(char in _FORBIDDEN for char in value):
        raise InvalidValue(
            field,
            value,
            f"{_INVALID} (give one plain address such as name@example.org, "
            "without a display name; list several separately)",
        )


def _short(error: EmailNotValidError) -> str:
    """The library's message as a clause: ``the part after the @-sign ...``."""
    text = str(error).strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else "bad syntax"


def parse_email_list(values: list[object] | object, field: str) -> tuple[str, ...]:
    """Addresses from a list (or one string), de-duplicated in first-seen order.

    Duplicates are found ignoring case, so ``Ann@x.org`` and ``ann@x.org`` are one
    recipient and nobody gets the same reminder twice. ``None`` means no addresses.
    """
    if values is None:
        return ()
    if isinstance(values, str):
        items: list[object] = [values]
    elif isinstance(values, list | tuple):
        items = list(values)
    else:
        raise InvalidValue(field, values, "must be an email address or a list of them")
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        address = parse_email(item, field)
        if address.casefold() not in seen:
            seen.add(address.casefold())
            result.append(address)
    return tuple(result)
