"""Numbers in plain words: how explanations print amounts, rates and tier starts."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["like", "number", "percent"]


def number(value: Decimal) -> str:
    """`152300.00` → `152,300.00` (exponent kept, no scientific notation)."""
    return f"{value:,f}"


def percent(rate: Decimal) -> str:
    """`0.035` → `3.5%`."""
    text = f"{(rate * 100).normalize():f}"
    return f"{text}%"


def like(value: Decimal, example: Decimal) -> str:
    """`value` with as many decimals as `example` has (a tier of 120000 on 152300.00)."""
    exponent = example.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        return number(value.quantize(Decimal(1).scaleb(exponent)))
    return number(value)
