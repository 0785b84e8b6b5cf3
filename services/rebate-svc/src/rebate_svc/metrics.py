"""Business metrics of rebate-svc (never labelled by partner)."""

from prometheus_client import Counter, Histogram

__all__ = [
    "ACCRUALS_UPDATED",
    "AMOUNT_ACCRUED",
    "AMOUNT_APPROVED",
    "RUN_DURATION",
    "STATEMENTS_CREATED",
    "STATEMENTS_SETTLED",
    "TIERS_REACHED",
]

STATEMENTS_CREATED = Counter(
    "rebate_statements_created_total", "Statements created by runs, by kind.", ["kind"]
)
STATEMENTS_SETTLED = Counter(
    "rebate_statements_settled_total", "Statements approved or paid, by new status.", ["status"]
)
AMOUNT_APPROVED = Counter(
    "rebate_amount_approved_minor_total",
    "Approved rebate amounts in minor units (cents), by program and currency.",
    ["program_id", "currency"],
)
AMOUNT_ACCRUED = Counter(
    "rebate_amount_accrued_change_minor_total",
    "Net change of accrued amounts in minor units, by program and currency (negative changes "
    "excluded).",
    ["program_id", "currency"],
)
ACCRUALS_UPDATED = Counter("rebate_accruals_updated_total", "Accrual rows recomputed.")
TIERS_REACHED = Counter("rebate_tiers_reached_total", "Tier crossings announced.")
RUN_DURATION = Histogram(
    "rebate_run_duration_seconds",
    "Time to compute a rebate run.",
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)
