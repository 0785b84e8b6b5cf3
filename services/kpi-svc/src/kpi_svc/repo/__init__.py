"""Every query of kpi-svc. Functions may flush, never commit."""

from .definitions import (
    all_definitions,
    bump_target_revision,
    get_definition,
    kpi_in_use,
    list_definitions,
    list_targets,
    target_revision,
    targets_for_period,
    upsert_targets,
)
from .ingest import (
    AggregateDelta,
    ObservationRow,
    PartnerState,
    StoredAggregate,
    insert_observations,
    partner_states,
    upsert_aggregates,
)
from .observations import AggregateRow, aggregate_rows, list_observations, region_within
from .partners import get_partner, partners_by_ids, upsert_partner

__all__ = [
    "AggregateDelta",
    "AggregateRow",
    "ObservationRow",
    "PartnerState",
    "StoredAggregate",
    "aggregate_rows",
    "all_definitions",
    "bump_target_revision",
    "get_definition",
    "get_partner",
    "insert_observations",
    "kpi_in_use",
    "list_definitions",
    "list_observations",
    "list_targets",
    "partner_states",
    "partners_by_ids",
    "region_within",
    "target_revision",
    "targets_for_period",
    "upsert_aggregates",
    "upsert_partner",
    "upsert_targets",
]
