"""The ingestion benchmark's data: KPIs, partners and the observation rows it sends, in the
shapes both paths need (JSON batches for the gateway, values for COPY)."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

FIRST_DAY = date(2025, 1, 1)
DAYS = 547  # 18 months: 2025-01-01 … 2026-06-30
REGIONS = ("CN-GD-SZ", "CN-GD-GZ", "CN-BJ", "CN-SH", "CN-ZJ-HZ", "CN-JS-NJ", "CN-SC-CD")
TYPES = ("distributor", "agent", "reseller", "retailer", "online")
SOURCE = "erp"


class Kpi(NamedTuple):
    """A KPI the data uses, with the range and precision of its values."""

    key: str
    high: int  # whole units
    places: int


# The seven seeded definitions, then five the benchmark adds: a dozen.
SEEDED = (
    Kpi("sales_amount", 50_000, 2),
    Kpi("units_sold", 2_000, 0),
    Kpi("conversion_rate", 1, 4),
    Kpi("inventory_turnover", 24, 2),
    Kpi("customer_satisfaction", 100, 1),
    Kpi("retention_rate", 1, 4),
    Kpi("store_coverage", 300, 0),
)
ADDED: tuple[tuple[Kpi, dict[str, Any]], ...] = (
    (Kpi("gross_margin", 1, 4), {"unit": "ratio", "aggregation": "avg", "max_value": "1"}),
    (Kpi("returns_count", 50, 0), {"unit": "count", "aggregation": "sum"}),
    (Kpi("leads_generated", 300, 0), {"unit": "count", "aggregation": "sum"}),
    (Kpi("average_order_value", 5_000, 2), {"unit": "currency", "aggregation": "avg"}),
    (Kpi("on_time_delivery", 1, 4), {"unit": "ratio", "aggregation": "avg", "max_value": "1"}),
)
KPIS = SEEDED + tuple(kpi for kpi, _ in ADDED)


class Row(NamedTuple):
    """One observation, in the shapes both paths need."""

    id: uuid.UUID
    partner_id: uuid.UUID
    kpi: str
    text: str  # the value as sent
    micro: int  # the value as stored (scaled by 10^6)
    day: date
    region: str


@dataclass(frozen=True)
class Partner:
    """A registered partner."""

    id: uuid.UUID
    region: str


def value_text(micro: int, places: int) -> str:
    """A non-negative scaled value as a decimal string with `places` decimals."""
    whole, fraction = divmod(micro, 10**6)
    if places == 0:
        return str(whole)
    return f"{whole}.{fraction // 10 ** (6 - places):0{places}d}"


def make_rows(partners: Sequence[Partner], count: int, seed: int) -> list[Row]:
    """`count` observations: each partner-day report carries all twelve KPIs, the reports
    spread evenly over 18 months (a daily feed, so a batch covers a day or two)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    reports = math.ceil(count / len(KPIS))
    rows: list[Row] = []
    for report in range(reports):
        day = FIRST_DAY + timedelta(days=report * DAYS // reports)
        partner = partners[rng.randrange(len(partners))]
        for kpi in KPIS:
            if len(rows) == count:
                break
            step = 10 ** (6 - kpi.places)
            micro = rng.randrange(0, kpi.high * 10**6 + 1, step)
            rows.append(
                Row(
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    partner.id,
                    kpi.key,
                    value_text(micro, kpi.places),
                    micro,
                    day,
                    partner.region,
                )
            )
    return rows


def encode_batch(rows: Sequence[Row]) -> bytes:
    """The JSON body of `POST /api/v1/observations`."""
    items = [
        {
            "id": str(row.id),
            "partner_id": str(row.partner_id),
            "kpi": row.kpi,
            "value": row.text,
            "occurred_on": row.day.isoformat(),
            "region": row.region,
            "source": SOURCE,
        }
        for row in rows
    ]
    return json.dumps({"observations": items}, separators=(",", ":")).encode()
