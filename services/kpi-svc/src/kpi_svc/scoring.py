"""The health score and target resolution: pure functions over exact decimals.

attainment = value / target (target / value when lower is better), clipped to [0, 1.2];
score = 100 * Σ weight·min(attainment, 1) / Σ weight over the KPIs with both value and target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Component", "ScopedTarget", "attainment", "health_score", "resolve_target"]

CAP = Decimal("1.2")
_ATTAINMENT_PLACES = Decimal("0.0001")
_POINTS_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ScopedTarget:
    """A target value and whom it is for (`kind`: partner | tier | region | all)."""

    kind: str
    scope: str
    value: Decimal


@dataclass(frozen=True)
class Component:
    """One KPI of a scorecard."""

    kpi: str
    value: Decimal | None
    target: Decimal | None
    weight: Decimal
    higher_is_better: bool
    attainment: Decimal | None = None
    contribution: Decimal | None = None


def resolve_target(
    targets: Iterable[ScopedTarget], *, partner_id: str, tier: str, region: str
) -> ScopedTarget | None:
    """The most specific target for a partner: its own > its tier > the longest region that
    contains its region > all partners."""
    best: tuple[int, int] | None = None
    chosen = None
    for target in targets:
        if target.kind == "partner" and target.scope == partner_id:
            rank = (3, 0)
        elif target.kind == "tier" and target.scope == tier:
            rank = (2, 0)
        elif target.kind == "region" and (
            region == target.scope or region.startswith(target.scope + "-")
        ):
            rank = (1, len(target.scope))
        elif target.kind == "all":
            rank = (0, 0)
        else:
            continue
        if best is None or rank > best:
            best, chosen = rank, target
    return chosen


def attainment(value: Decimal, target: Decimal, *, higher_is_better: bool) -> Decimal:
    """How far `value` meets `target`, clipped to [0, 1.2] and rounded to 4 places.

    A zero divisor means the ratio is unbounded: above zero → the cap, zero → met (1),
    below zero → 0."""
    numerator, divisor = (value, target) if higher_is_better else (target, value)
    if divisor == 0:
        raw = CAP if numerator > 0 else Decimal(1) if numerator == 0 else Decimal(0)
    else:
        raw = numerator / divisor
    clipped = min(max(raw, Decimal(0)), CAP)
    return clipped.quantize(_ATTAINMENT_PLACES, rounding=ROUND_HALF_UP)


def health_score(components: Iterable[Component]) -> tuple[Decimal | None, list[Component]]:
    """The score (2 places; None when no KPI has both value and target) and every component
    with its attainment and contribution (points of the score, 2 places)."""
    rows = list(components)
    scored = [
        (c, attainment(c.value, c.target, higher_is_better=c.higher_is_better))
        for c in rows
        if c.value is not None and c.target is not None
    ]
    total_weight = sum((c.weight for c, _ in scored), Decimal(0))
    contributions: dict[str, tuple[Decimal, Decimal | None]] = {}
    points = Decimal(0)
    for component, reached in scored:
        if total_weight == 0:
            contributions[component.kpi] = (reached, None)
            continue
        share = 100 * component.weight * min(reached, Decimal(1)) / total_weight
        points += share
        contributions[component.kpi] = (reached, _round_points(share))
    result = [
        Component(
            kpi=c.kpi,
            value=c.value,
            target=c.target,
            weight=c.weight,
            higher_is_better=c.higher_is_better,
            attainment=contributions.get(c.kpi, (None, None))[0],
            contribution=contributions.get(c.kpi, (None, None))[1],
        )
        for c in rows
    ]
    return (_round_points(points) if total_weight > 0 else None), result


def _round_points(value: Decimal) -> Decimal:
    return value.quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)
