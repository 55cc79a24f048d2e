"""Parsing and showing amounts of money (pounds sterling) as exact ``Decimal`` pence.

Funding gaps are differences of sums; a float or a mis-read thousands separator
shifts them silently. So amounts are ``Decimal`` quantized to pence, floats from
YAML go through their shortest ``repr`` (``32663.22`` stays exactly that), commas
must group thousands properly (``1,00`` is refused, not read as 100), and
fractions of a penny are errors rather than being rounded away.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from tracker.domain.text import has_unsafe_chars
from tracker.errors import InvalidValue

PENNY = Decimal("0.01")
#: Exclusive upper bound: no public-sector contract line approaches a trillion pounds.
LIMIT = Decimal(10) ** 12

_NOT_MONEY = "is not an amount of money: write 298403.22 or £298,403.22"
_NEGATIVE = "must not be negative"
_PENCE = "has more than two decimal places (pence)"
_TOO_LARGE = "is too large (limit £999,999,999,999.99)"

_AMOUNT = re.compile(
    r"(?P<sign>-?)[ ]*£?[ ]*(?P<sign2>-?)[ ]*"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?"
)


def parse_money(value: object, field: str) -> Decimal:
    """An amount of money in pounds, exact to the penny, non-negative and below £10^12."""
    amount = _to_decimal(value, field)
    if not amount.is_finite():
        raise InvalidValue(field, value, _NOT_MONEY)
    if amount < 0:
        raise InvalidValue(field, value, _NEGATIVE)
    if amount >= LIMIT:
        raise InvalidValue(field, value, _TOO_LARGE)
    if amount != amount.quantize(PENNY):
        raise InvalidValue(field, value, _PENCE)
    # ``+ 0`` drops a negative zero's sign so "-0" never shows as "-£0.00".
    return amount.quantize(PENNY) + Decimal("0.00")


def parse_optional_money(value: object, field: str) -> Decimal | None:
    """Like ``parse_money`` but an absent or blank value means no amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_money(value, field)


def _to_decimal(value: object, field: str) -> Decimal:
    """The exact amount a value spells, before the sign, pence and size checks."""
    if isinstance(value, bool):
        raise InvalidValue(field, value, _NOT_MONEY)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(field, value, _NOT_MONEY)
        return Decimal(repr(value))
    if isinstance(value, str):
        return _decimal_from_text(value, field)
    raise InvalidValue(field, value, _NOT_MONEY)


def _decimal_from_text(value: str, field: str) -> Decimal:
    """``£1,234.5`` and friends; refuses exponents, NaN and badly placed commas."""
    if has_unsafe_chars(value):
        raise InvalidValue(field, value, _NOT_MONEY)
    match = _AMOUNT.fullmatch(value.strip())
    if not match or (match["sign"] and match["sign2"]):
        raise InvalidValue(field, value, _NOT_MONEY)
    if match["sign"] or match["sign2"]:
        raise InvalidValue(field, value, _NEGATIVE)
    fraction = match["frac"]
    if fraction is not None and len(fraction) > 2:
        raise InvalidValue(field, value, _PENCE)
    try:
        return Decimal(match["whole"].replace(",", "") + "." + (fraction or "0"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise InvalidValue(field, value, _NOT_MONEY) from None


def format_gbp(amount: Decimal) -> str:
    """``£298,403.22``: pounds with thousands commas and pence; negatives as ``-£1.00``."""
    pence = amount.quantize(PENNY)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence):,.2f}"


def money_json(amount: Decimal) -> str:
    """``"298403.22"``: the JSON form, a string so no reader turns it into a float."""
    pence = amount.quantize(PENNY) + Decimal("0.00")
    return f"{pence:f}"


def gbp_or_unknown(amount: Decimal | None) -> str:
    """``£298,403.22``, or ``cost unknown`` where no cost lines exist for the year."""
    return "cost unknown" if amount is None else format_gbp(amount)
