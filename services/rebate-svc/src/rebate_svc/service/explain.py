"""The one-paragraph explanation of a statement, in plain words."""

from __future__ import annotations

from decimal import Decimal

from ..calculation import NO_BASELINE, QUALIFIER_FAILED, Calculation

__all__ = ["explain", "explain_adjustment", "number", "percent"]

_OPS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}


def number(value: Decimal) -> str:
    """`152300.00` → `152,300.00` (exponent kept, no scientific notation)."""
    return f"{value:,f}"


def percent(rate: Decimal) -> str:
    """`0.035` → `3.5%`."""
    text = f"{(rate * 100).normalize():f}"
    return f"{text}%"


def _like(value: Decimal, example: Decimal) -> str:
    """`value` with as many decimals as `example` has (a tier of 120000 on 152300.00)."""
    exponent = example.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        return number(value.quantize(Decimal(1).scaleb(exponent)))
    return number(value)


def explain(calc: Calculation, *, period: str, kpi: str, basis_type: str, currency: str) -> str:
    """Why the calculation came out as it did."""
    subject = f"{period} {kpi} {number(calc.basis_value)}"
    if calc.reason == NO_BASELINE:
        return (
            f"{subject}: there is no positive {kpi} for the same period a year before, so growth "
            "cannot be measured; not eligible, nothing is earned."
        )
    measure = subject
    if basis_type == "growth" and calc.growth is not None:
        prior = number(calc.prior_value) if calc.prior_value is not None else "?"
        measure = f"{subject} against {prior} a year before is growth {percent(calc.growth)}"
    if calc.tier_index is None:
        text = f"{measure} is below the first tier; nothing is earned."
    else:
        line = calc.lines[-1]
        start = (
            percent(line.start) if basis_type == "growth" else _like(line.start, calc.basis_value)
        )
        parts = [f"{number(x.base)} × {percent(x.rate)} = {number(x.amount)}" for x in calc.lines]  # noqa: RUF001
        text = (
            f"{measure} reached tier {calc.tier_index + 1} (from {start}) at "
            f"{percent(line.rate)}: {' + '.join(parts)}"
        )
        if len(calc.lines) > 1:
            text += f", in all {number(calc.gross_amount)}"
        text += f" {currency}."
        if calc.cap_applied:
            text += f" The cap limits it to {number(calc.amount)} {currency}."
    if calc.reason == QUALIFIER_FAILED:
        failed = "; ".join(
            f"{r.kpi} {_OPS[r.op]} {number(r.value)} failed "
            f"({'no value' if r.actual is None else f'actual {number(r.actual)}'})"
            for r in calc.failed_qualifiers
        )
        text += f" Qualifier not met: {failed}; the statement pays nothing."
    return text


def explain_adjustment(*, recomputed: Decimal, settled: Decimal, currency: str) -> str:
    """Why an adjustment carries the amount it does."""
    difference = recomputed - settled
    return (
        f"Adjustment: the period recomputed to {number(recomputed)} {currency}, while "
        f"{number(settled)} {currency} was already approved; the difference "
        f"{number(difference)} {currency} is carried here."
    )
