"""Table rows → API models."""

from __future__ import annotations

from ..models import KpiDefinition, Observation, Target
from ..scaled import from_micro
from ..schemas import (
    Aggregation,
    KpiDefinitionRead,
    ObservationRead,
    TargetRead,
    Unit,
)

__all__ = ["definition_view", "observation_view", "target_view"]


def definition_view(row: KpiDefinition) -> KpiDefinitionRead:
    """A definition as the API shows it."""
    return KpiDefinitionRead(
        key=row.key,
        name=row.name,
        unit=Unit(row.unit),
        aggregation=Aggregation(row.aggregation),
        higher_is_better=row.higher_is_better,
        weight=from_micro(row.weight_micro),
        min_value=None if row.min_micro is None else from_micro(row.min_micro),
        max_value=None if row.max_micro is None else from_micro(row.max_micro),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def observation_view(row: Observation) -> ObservationRead:
    """An observation as the API shows it."""
    return ObservationRead(
        id=row.id,
        partner_id=row.partner_id,
        kpi=row.kpi,
        value=from_micro(row.value_micro),
        occurred_on=row.occurred_on,
        region=row.region,
        source=row.source,
        batch_id=row.batch_id,
        recorded_at=row.recorded_at,
    )


def target_view(row: Target) -> TargetRead:
    """A target as the API shows it."""
    name = {"partner": "partner_id", "tier": "tier", "region": "region"}.get(row.scope_kind)
    return TargetRead(
        kpi=row.kpi,
        period=row.period,
        scope={name: row.scope_value} if name else {},
        value=from_micro(row.value_micro),
        updated_at=row.updated_at,
    )
