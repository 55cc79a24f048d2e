"""The funding chart's geometry: a server-rendered SVG of gaps and money at risk by year.

Horizontal bars, two per financial year (gap, then at risk), scaled to the largest
amount. The page draws the SVG from these numbers with no script; the figures
themselves are in the table beside it, which is the chart's text alternative. Floats
appear only here, as pixel lengths: the amounts shown are the Decimal ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tracker.domain.money import format_gbp

#: The drawing's coordinate space (the SVG scales to its box).
WIDTH = 480
LABEL_WIDTH = 86
#: Room after the longest bar for its amount.
AMOUNT_WIDTH = 120
BAR_HEIGHT = 16
ROW_HEIGHT = 2 * BAR_HEIGHT + 18
TOP = 8


@dataclass(frozen=True, kw_only=True)
class Bar:
    y: float
    width: float
    amount: str  # "£1,234.56", or "cost unknown" for a gap with no cost lines
    series: str  # "gap" or "risk"


@dataclass(frozen=True, kw_only=True)
class ChartRow:
    label: str
    label_y: float
    bars: tuple[Bar, Bar]


@dataclass(frozen=True, kw_only=True)
class Chart:
    width: int
    height: int
    label_width: int
    bar_height: int
    rows: tuple[ChartRow, ...]


def _length(amount: Decimal | None, largest: Decimal) -> float:
    """A bar's length in the drawing; a non-zero amount is at least 2 units, so it shows."""
    if amount is None or amount <= 0 or largest <= 0:
        return 0.0
    span = WIDTH - LABEL_WIDTH - AMOUNT_WIDTH
    return max(2.0, float(amount / largest) * span)


def bar_chart(years: Sequence[tuple[str, Decimal | None, Decimal]]) -> Chart:
    """(label, gap, at risk) per year -> the chart's rows, oldest year at the top."""
    amounts = [a for _, gap, risk in years for a in (gap, risk) if a is not None]
    largest = max(amounts, default=Decimal(0))
    rows = []
    for index, (label, gap, risk) in enumerate(years):
        top = TOP + index * ROW_HEIGHT
        rows.append(
            ChartRow(
                label=label,
                label_y=top + BAR_HEIGHT + 4,
                bars=(
                    Bar(
                        y=top,
                        width=_length(gap, largest),
                        series="gap",
                        amount="cost unknown" if gap is None else format_gbp(gap),
                    ),
                    Bar(
                        y=top + BAR_HEIGHT,
                        width=_length(risk, largest),
                        series="risk",
                        amount=format_gbp(risk),
                    ),
                ),
            )
        )
    return Chart(
        width=WIDTH,
        height=TOP * 2 + len(years) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        rows=tuple(rows),
    )
