"""Tier arithmetic: pure functions over Decimals, no I/O.

Tier *i* covers `[from_i, from_{i+1})`; below the first `from` nothing is earned. Each line is
rounded half-up to the currency's minor unit; the amount is the sum of the rounded lines, then
capped. What the tiers are compared with is the basis's measure (see `bases`): a volume, or a
growth ratio whose reached rate applies to this period's volume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .bases import BASES, BasisType
from .currencies import quantum

__all__ = [
    "BELOW_FIRST_TIER",
    "NO_BASELINE",
    "QUALIFIER_FAILED",
    "Calculation",
    "Line",
    "NextTier",
    "Qualifier",
    "QualifierResult",
    "Terms",
    "Tier",
    "calculate",
]

BELOW_FIRST_TIER = "below_first_tier"
QUALIFIER_FAILED = "qualifier_failed"
NO_BASELINE = "no_baseline"
_ZERO = Decimal(0)
_OPS = {
    "gte": lambda actual, bound: actual >= bound,
    "gt": lambda actual, bound: actual > bound,
    "lte": lambda actual, bound: actual <= bound,
    "lt": lambda actual, bound: actual < bound,
}


@dataclass(frozen=True)
class Tier:
    """A tier starts at `start` (a volume, or a growth ratio) and pays `rate`."""

    start: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Qualifier:
    """A gate on a KPI of the period: `actual <op> value` must hold."""

    kpi: str
    op: str
    value: Decimal


@dataclass(frozen=True)
class QualifierResult:
    """How one qualifier fared; `actual` is None when the KPI has no value."""

    kpi: str
    op: str
    value: Decimal
    actual: Decimal | None
    passed: bool


@dataclass(frozen=True)
class Line:
    """One tier's share: `base` times `rate` = `amount` (rounded); `end` None for the top tier."""

    start: Decimal
    end: Decimal | None
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class NextTier:
    """The next tier up: where it starts, how far away it is, what it would pay."""

    start: Decimal
    distance: Decimal
    amount_at_next: Decimal


@dataclass(frozen=True)
class Terms:
    """What a program says about the arithmetic."""

    tiers: Sequence[Tier]
    method: str  # retroactive | incremental
    basis_type: BasisType
    currency: str
    qualifiers: Sequence[Qualifier] = ()
    cap: Decimal | None = None


@dataclass(frozen=True)
class Calculation:
    """The result for one basis: lines, amounts, the tier reached and why it is zero."""

    basis_value: Decimal
    prior_value: Decimal | None
    growth: Decimal | None
    tier_index: int | None
    lines: list[Line]
    qualifier_results: list[QualifierResult]
    gross_amount: Decimal
    cap_applied: bool
    amount: Decimal
    reason: str | None
    failed_qualifiers: list[QualifierResult] = field(default_factory=list)
    next_tier: NextTier | None = None


def calculate(
    terms: Terms,
    *,
    basis_value: Decimal,
    prior_value: Decimal | None = None,
    kpi_values: Mapping[str, Decimal | None] | None = None,
    with_next_tier: bool = True,
) -> Calculation:
    """The rebate earned on `basis_value` (and the baseline's `prior_value`) under `terms`;
    `with_next_tier=False` skips the what-if of the next tier (statements do not show it)."""
    results = _qualifier_results(terms.qualifiers, kpi_values or {})
    failed = [r for r in results if not r.passed]
    zero = _ZERO.quantize(quantum(terms.currency))
    measured = BASES[terms.basis_type].measure(basis_value, prior_value)
    if measured is None:
        return Calculation(
            basis_value, prior_value, None, None, [], results, zero, False, zero, NO_BASELINE,
            failed,
        )  # fmt: skip
    measure, growth = measured.value, measured.growth
    lines, tier_index = _lines(terms, measure=measure, volume=basis_value)
    gross = sum((line.amount for line in lines), zero)
    amount, cap_applied = _capped(gross, terms.cap)
    reason = None
    if failed:
        amount, reason = zero, QUALIFIER_FAILED
    elif tier_index is None:
        reason = BELOW_FIRST_TIER
    next_tier = None
    if with_next_tier:
        next_tier = _next_tier(terms, tier_index, measure=measure, prior_value=prior_value)
    return Calculation(
        basis_value, prior_value, growth, tier_index, lines, results, gross, cap_applied,
        amount, reason, failed, next_tier,
    )  # fmt: skip


def _qualifier_results(
    qualifiers: Sequence[Qualifier], values: Mapping[str, Decimal | None]
) -> list[QualifierResult]:
    results = []
    for q in qualifiers:
        actual = values.get(q.kpi)
        passed = actual is not None and bool(_OPS[q.op](actual, q.value))
        results.append(QualifierResult(q.kpi, q.op, q.value, actual, passed))
    return results


def _round(value: Decimal, currency: str) -> Decimal:
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def _reached(tiers: Sequence[Tier], measure: Decimal, basis_type: BasisType) -> int | None:
    if BASES[basis_type].positive_only and measure <= 0:
        return None  # 0 or less reaches no tier, even one from 0: the reason says why
    index = None
    for i, tier in enumerate(tiers):
        if measure >= tier.start:
            index = i
    return index


def _lines(terms: Terms, *, measure: Decimal, volume: Decimal) -> tuple[list[Line], int | None]:
    tiers = terms.tiers
    index = _reached(tiers, measure, terms.basis_type)
    if index is None:
        return [], None
    ends = [t.start for t in tiers[1:]] + [None]
    if terms.method == "retroactive" or not BASES[terms.basis_type].slices:
        rate = tiers[index].rate
        line = Line(
            tiers[index].start, ends[index], rate, volume, _round(volume * rate, terms.currency)
        )
        return [line], index
    lines = []
    for i in range(index + 1):
        start, end = tiers[i].start, ends[i]
        top = volume if end is None or volume < end else end
        base = top - start
        lines.append(
            Line(start, end, tiers[i].rate, base, _round(base * tiers[i].rate, terms.currency))
        )
    return lines, index


def _capped(gross: Decimal, cap: Decimal | None) -> tuple[Decimal, bool]:
    if cap is not None and gross > cap:
        return cap, True
    return gross, False


def _next_tier(
    terms: Terms, index: int | None, *, measure: Decimal, prior_value: Decimal | None
) -> NextTier | None:
    """What the next tier would pay, qualifiers aside (they do not depend on the basis)."""
    following = 0 if index is None else index + 1
    if following >= len(terms.tiers):
        return None
    start = terms.tiers[following].start
    volume = BASES[terms.basis_type].volume_at(start, prior_value)
    lines, _ = _lines(terms, measure=start, volume=volume)
    gross = sum((line.amount for line in lines), _ZERO.quantize(quantum(terms.currency)))
    amount, _ = _capped(gross, terms.cap)
    return NextTier(start=start, distance=start - measure, amount_at_next=amount)
