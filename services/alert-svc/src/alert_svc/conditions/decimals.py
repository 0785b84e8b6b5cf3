"""The exact-decimal wire format of condition figures and alert values."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

__all__ = ["DecimalIn", "DecimalOut", "format_decimal"]


def format_decimal(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros (`1234.5`, `100`)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


DecimalOut = Annotated[Decimal, PlainSerializer(format_decimal, return_type=str, when_used="json")]
# A JSON number or string in (never through float), at most 6 decimal places.
DecimalIn = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=6, allow_inf_nan=False),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
]
