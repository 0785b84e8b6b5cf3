"""The one-paragraph explanation of a statement, in plain words."""

from __future__ import annotations

from decimal import Decimal

from ..bases import BASES, BasisType
from ..calculation import NO_BASELINE, QUALIFIER_FAILED, Calculation
from ..wording import number, percent

__all__ = ["explain", "explain_adjustment"]

_OPS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}


def explain(
    calc: Calculation, *, period: str, kpi: str, basis_type: BasisType, currency: str
) -> str:
    """Why the calculation came out as it did."""
    basis = BASES[basis_type]
    subject = f"{period} {kpi} {number(calc.basis_value)}"
    if calc.reason == NO_BASELINE:
        return basis.no_baseline(subject, kpi)
    measure = basis.describe(calc, subject)
    if calc.tier_index is None:
        text = f"{measure} is below the first tier; nothing is earned."
    else:
        line = calc.lines[-1]
        start = basis.tier_start(line.start, calc)
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
