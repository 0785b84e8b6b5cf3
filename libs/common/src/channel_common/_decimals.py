"""Exact decimals on the wire: accepted as JSON numbers or strings, returned as JSON strings in
plain notation — never `1E+3`, never through float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import PlainSerializer

__all__ = ["DecimalPlaces", "ExactDecimal", "decimal_serializer", "format_decimal"]

# "trimmed": no trailing zeros (`1234.5`, `100`); "kept": the places the value carries
# (`12.50`); a number: exactly that many places (`1234.50`).
DecimalPlaces = int | Literal["trimmed", "kept"]


def format_decimal(value: Decimal, places: DecimalPlaces = "trimmed") -> str:
    """A decimal as plain text, never in exponent notation: trailing zeros dropped (`1234.5`,
    `100`, `0.125`, never `-0`), kept as the value carries them, or to exactly `places`
    decimals (rounded half-even)."""
    if places == "trimmed":
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if places == "kept":
        return format(value, "f")
    return format(value, f".{places}f")


def decimal_serializer(
    places: DecimalPlaces = "trimmed", *, when_used: Literal["json", "always"] = "json"
) -> PlainSerializer:
    """An `Annotated` marker that writes a decimal as a string with `format_decimal` (in JSON
    only by default: a Python dump keeps the `Decimal`); its JSON schema says `string`."""

    def serialize(value: Decimal) -> str:
        return format_decimal(value, places)

    return PlainSerializer(serialize, return_type=str, when_used=when_used)


# A decimal returned as a JSON string without trailing zeros (`"1234.5"`).
ExactDecimal = Annotated[Decimal, decimal_serializer()]
