"""Business rules of kpi-svc: no FastAPI, no HTTP errors, no commits."""

from .definitions import create_definition, get_definition, list_definitions, update_definition
from .ingest import IngestOutcome, ingest_observations
from .observations import list_observations
from .queries import kpi_ranking, kpi_series, kpi_summary
from .replica import apply_partner_snapshot
from .scorecards import get_scorecard
from .targets import ListedTargets, StoredTargets, list_targets, put_targets, target_set_revision
from .views import definition_view, observation_view, target_view

__all__ = [
    "IngestOutcome",
    "ListedTargets",
    "StoredTargets",
    "apply_partner_snapshot",
    "create_definition",
    "definition_view",
    "get_definition",
    "get_scorecard",
    "ingest_observations",
    "kpi_ranking",
    "kpi_series",
    "kpi_summary",
    "list_definitions",
    "list_observations",
    "list_targets",
    "observation_view",
    "put_targets",
    "target_set_revision",
    "target_view",
    "update_definition",
]
