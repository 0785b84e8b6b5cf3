"""Business metrics of kpi-svc (never labelled by partner)."""

from prometheus_client import Counter, Histogram

__all__ = [
    "BATCH_SIZE",
    "OBSERVATIONS_DUPLICATE",
    "OBSERVATIONS_INGESTED",
    "OBSERVATIONS_REJECTED",
]

OBSERVATIONS_INGESTED = Counter(
    "kpi_observations_ingested_total",
    "Observations stored, by channel (http, import, nats).",
    ["channel"],
)
OBSERVATIONS_REJECTED = Counter(
    "kpi_observations_rejected_total", "Observations refused, by reason code.", ["code"]
)
OBSERVATIONS_DUPLICATE = Counter(
    "kpi_observations_duplicates_total", "Observations skipped because their id was stored."
)
BATCH_SIZE = Histogram(
    "kpi_ingest_batch_items",
    "Items per ingested batch or import chunk.",
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000),
)
