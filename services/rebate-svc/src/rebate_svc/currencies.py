"""ISO 4217 currencies this service accepts and their minor units (digits after the point)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

__all__ = ["CURRENCIES", "from_minor", "minor_unit", "quantum", "to_minor"]

_THREE_DIGITS = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_NO_DIGITS = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "UGX", "PYG"})
_TWO_DIGITS = frozenset(
    {
        "AED", "ARS", "AUD", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "EGP", "EUR",
        "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "MAD", "MXN", "MYR", "NGN", "NOK", "NZD",
        "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TRY",
        "TWD", "UAH", "USD", "ZAR",
    }
)  # fmt: skip
CURRENCIES = _THREE_DIGITS | _NO_DIGITS | _TWO_DIGITS


@cache
def minor_unit(currency: str) -> int:
    """How many decimal digits the currency's minor unit has (JPY 0, EUR 2, KWD 3)."""
    if currency in _NO_DIGITS:
        return 0
    if currency in _THREE_DIGITS:
        return 3
    return 2


@cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency as a Decimal exponent (`0.01` for EUR)."""
    return Decimal(1).scaleb(-minor_unit(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount already rounded to the currency as integer minor units."""
    return int(amount.scaleb(minor_unit(currency)).to_integral_value())


def from_minor(minor: int, currency: str) -> Decimal:
    """Integer minor units back to a Decimal with the currency's exponent."""
    return Decimal(minor).scaleb(-minor_unit(currency)).quantize(quantum(currency))
