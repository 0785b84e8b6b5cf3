"""Exact numbers: decimals at the edge, integers scaled by 10^6 in the database.

`Numeric` goes through float on SQLite; scaled integers give identical results on SQLite and
PostgreSQL. Six decimal places hold money minor units and ratios alike.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from channel_common import format_decimal
from pydantic import Field

__all__ = [
    "SCALE",
    "DecimalIn",
    "from_micro",
    "mean_text",
    "micro_text",
    "ratio",
    "round_value",
    "to_micro",
]

SCALE = 10**6
_PLACES = Decimal("0.000001")

# What clients may send: at most 12 integer digits and 6 decimal places, finite.
DecimalIn = Annotated[
    Decimal,
    Field(
        max_digits=18,
        decimal_places=6,
        allow_inf_nan=False,
        description="A decimal as a JSON number or string; at most 6 decimal places.",
    ),
]


def to_micro(value: Decimal) -> int:
    """The exact scaled integer of a value with at most 6 decimal places."""
    scaled = value * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 6 decimal places")
    return int(scaled)


def from_micro(micro: int) -> Decimal:
    """The decimal a scaled integer stands for (exact)."""
    return Decimal(micro).scaleb(-6)


def micro_text(micro: int) -> str:
    """`format_decimal(from_micro(micro))` in integer arithmetic (`1234.5`, `100`, `-0.125`)."""
    whole, fraction = divmod(abs(micro), SCALE)
    text = f"{whole}.{fraction:06d}".rstrip("0") if fraction else str(whole)
    return "-" + text if micro < 0 else text


# Below this count, rounding the integer quotient equals `round_value(from_micro(total) / count)`
# (28 significant digits leave the tie decision untouched for any 64-bit total).
_EXACT_MEAN_COUNT = 10**8


def mean_text(total: int, count: int) -> str:
    """`format_decimal(round_value(from_micro(total) / count))`, mostly in integers."""
    if count >= _EXACT_MEAN_COUNT:
        return format_decimal(round_value(from_micro(total) / count))
    quotient, remainder = divmod(abs(total), count)
    if 2 * remainder >= count:  # half-up: ties away from zero
        quotient += 1
    return micro_text(-quotient if total < 0 else quotient)


def round_value(value: Decimal) -> Decimal:
    """A computed value (an average, a ratio) rounded half-up to 6 decimal places."""
    return value.quantize(_PLACES, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """`numerator / denominator` rounded to 6 places; the denominator is not zero."""
    return round_value(numerator / denominator)
