"""The channel story's data, and every figure the story checks, worked out by hand.

Four partners report two KPIs for each month of 2025 (on the 15th):

    monthly sales_amount               Q1      Q2      Q3      Q4      year
    E2E-NORTH  30k*3, 35k*3, 40k*3, 50k*3  90,000 105,000 120,000 150,000 465,000
    E2E-EAST   20,000 every month       60,000  60,000  60,000  60,000 240,000
    E2E-SOUTH  10,000 every month       30,000  30,000  30,000  30,000 120,000
    E2E-WEST    5,000 every month       15,000  15,000  15,000  15,000  60,000

    monthly customer_satisfaction: NORTH 90, EAST 70, SOUTH 90 (but 60 in December), WEST 80.

E2E-WEST fails its tier's admission and stays `onboarding`: it may report, but it earns no
rebate. The rebate program pays quarterly, retroactively, the tiers of DESIGN.md's worked
example ([0: 1 %], [50,000: 3 %], [120,000: 4 %]) when the quarter's mean satisfaction is ≥ 75.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

__all__ = [
    "ADJUSTED_NORTH_BASIS",
    "ALERT_BELOW",
    "EXPECTED_ACCRUALS",
    "EXPECTED_Q4_STATEMENTS",
    "FIRST_RUN_TOTAL",
    "LATE_ITEMS",
    "LATE_NORTH_SALES",
    "LATE_SOUTH_SATISFACTION",
    "NORTH_ADJUSTMENT",
    "OWED_AFTER_ADJUSTMENT",
    "PARTNERS",
    "PROGRAM",
    "Q4_SALES_SUMMARY",
    "SOUTH_DECEMBER_AFTER",
    "YEAR",
    "YEAR_SALES",
    "csv_text",
    "observation",
    "observations_for_months",
]

YEAR = 2025
_IDS = uuid.UUID("5f3a1c2e-0000-4000-8000-e2e000000001")

# code → what is registered; `activate` says whether the story can make it active.
PARTNERS: dict[str, dict[str, Any]] = {
    "E2E-NORTH": {
        "name": "North Distribution",
        "type": "distributor",
        "tier": "gold",  # gold admits from 10,000,000.00 / 5 years / 20 staff
        "region": "CN-GD",
        "qualification": {
            "registered_capital": "20000000.00",
            "years_in_business": 8,
            "service_staff": 30,
        },
        "territories": [{"region": "CN-GD", "exclusive": True}],
        "activate": True,
    },
    "E2E-EAST": {
        "name": "East Resale",
        "type": "reseller",
        "tier": "silver",  # silver admits from 2,000,000.00 / 2 years / 5 staff
        "region": "CN-ZJ",
        "qualification": {
            "registered_capital": "3000000.00",
            "years_in_business": 3,
            "service_staff": 6,
        },
        "territories": [{"region": "CN-ZJ", "exclusive": True}],
        "activate": True,
    },
    "E2E-SOUTH": {
        "name": "South Retail",
        "type": "retailer",
        "tier": "registered",  # admits everyone
        "region": "CN-GD-SZ",
        "qualification": {},
        # Inside NORTH's exclusive CN-GD, which a non-exclusive territory may share.
        "territories": [{"region": "CN-GD-SZ", "exclusive": False}],
        "activate": True,
    },
    "E2E-WEST": {
        "name": "West Agency",
        "type": "agent",
        "tier": "silver",
        "region": "CN-SC",
        # Below silver on every criterion: activation is refused with three failed checks.
        "qualification": {
            "registered_capital": "500000.00",
            "years_in_business": 1,
            "service_staff": 2,
        },
        "territories": [],
        "activate": False,
    },
}

_SALES = {
    "E2E-NORTH": [30_000] * 3 + [35_000] * 3 + [40_000] * 3 + [50_000] * 3,
    "E2E-EAST": [20_000] * 12,
    "E2E-SOUTH": [10_000] * 12,
    "E2E-WEST": [5_000] * 12,
}
_SATISFACTION = {
    "E2E-NORTH": [90] * 12,
    "E2E-EAST": [70] * 12,
    "E2E-SOUTH": [90] * 11 + [60],
    "E2E-WEST": [80] * 12,
}

# Year totals: NORTH 3*(30,000 + 35,000 + 40,000 + 50,000) = 3 * 155,000 = 465,000;
# EAST 12 * 20,000 = 240,000; SOUTH 12 * 10,000 = 120,000; WEST 12 * 5,000 = 60,000.
YEAR_SALES = {
    "E2E-NORTH": Decimal("465000"),
    "E2E-EAST": Decimal("240000"),
    "E2E-SOUTH": Decimal("120000"),
    "E2E-WEST": Decimal("60000"),
}

# 2025-Q4 against 2025-Q3: (value, previous_value, change_pct); no 2024 data → yoy null.
# NORTH 3 * 50,000 = 150,000 vs 3 * 40,000 = 120,000 → 30,000 / 120,000 = 0.25.
# The others are flat: change 0.
Q4_SALES_SUMMARY = {
    "E2E-NORTH": (Decimal("150000"), Decimal("120000"), Decimal("0.25")),
    "E2E-EAST": (Decimal("60000"), Decimal("60000"), Decimal("0")),
    "E2E-SOUTH": (Decimal("30000"), Decimal("30000"), Decimal("0")),
    "E2E-WEST": (Decimal("15000"), Decimal("15000"), Decimal("0")),
}

PROGRAM: dict[str, Any] = {
    "name": "E2E quarterly volume rebate",
    "currency": "CNY",
    "period": "quarter",
    "basis": {"kpi": "sales_amount", "type": "volume"},
    "method": "retroactive",
    "tiers": [
        {"from": "0", "rate": "0.01"},
        {"from": "50000", "rate": "0.03"},
        {"from": "120000", "rate": "0.04"},
    ],
    "qualifiers": [{"kpi": "customer_satisfaction", "op": "gte", "value": "75"}],
    "valid_from": "2025-01-01",
    "status": "active",
}

# Live accruals on 2025-12-31 (rebate-svc's pinned today): the open period is 2025-Q4, all
# 92 days of it elapsed, so the projection equals the figure itself.
# code → (basis, tier_index, accrued, next_tier_from, distance_to_next)
EXPECTED_ACCRUALS = {
    # 150,000 ≥ 120,000 → 4 %: 150,000 * 0.04 = 6,000.00; no higher tier.
    "E2E-NORTH": (Decimal("150000"), 2, Decimal("6000.00"), None, None),
    # 60,000 ≥ 50,000 → 3 % (1,800.00 gross) but mean satisfaction 70 < 75 → 0.00;
    # next tier at 120,000: 120,000 - 60,000 = 60,000 away.
    "E2E-EAST": (Decimal("60000"), 1, Decimal("0.00"), Decimal("120000"), Decimal("60000")),
    # 30,000 → 1 %: 300.00; next tier at 50,000: 20,000 away.
    "E2E-SOUTH": (Decimal("30000"), 0, Decimal("300.00"), Decimal("50000"), Decimal("20000")),
}

# The 2025-Q4 statements of the first run.
# code → (basis, tier_index, rate, gross, amount, reason, mean satisfaction, qualifier passed)
EXPECTED_Q4_STATEMENTS = {
    "E2E-NORTH": (
        Decimal("150000"), 2, Decimal("0.04"),
        Decimal("6000.00"), Decimal("6000.00"), None, Decimal("90"), True,
    ),
    # (70 + 70 + 70) / 3 = 70 < 75: the gross stays visible, the amount is 0.
    "E2E-EAST": (
        Decimal("60000"), 1, Decimal("0.03"),
        Decimal("1800.00"), Decimal("0.00"), "qualifier_failed", Decimal("70"), False,
    ),
    # (90 + 90 + 60) / 3 = 80 ≥ 75.
    "E2E-SOUTH": (
        Decimal("30000"), 0, Decimal("0.01"),
        Decimal("300.00"), Decimal("300.00"), None, Decimal("80"), True,
    ),
}  # fmt: skip
# 6,000.00 + 0.00 + 300.00
FIRST_RUN_TOTAL = Decimal("6300.00")

# Threshold of the alert rule on monthly customer_satisfaction: only SOUTH's December (60)
# is below it; EAST's 70 and everyone else's are not.
ALERT_BELOW = Decimal("65")

# Late data, sent after the statements were approved:
# - a late December invoice of NORTH: Q4 = 150,000 + 30,000 = 180,000 → 4 % = 7,200.00, so an
#   adjustment of 7,200.00 - 6,000.00 (approved) = 1,200.00;
# - a second December satisfaction survey of SOUTH: December = (60 + 90) / 2 = 75 ≥ 65, so the
#   alert resolves; Q4 mean (90 + 90 + 75) / 3 = 85 still ≥ 75 and the amount stays 300.00,
#   so SOUTH gets no adjustment.
LATE_NORTH_SALES = Decimal("30000")
LATE_SOUTH_SATISFACTION = Decimal("90")
ADJUSTED_NORTH_BASIS = Decimal("180000")
NORTH_ADJUSTMENT = Decimal("1200.00")
SOUTH_DECEMBER_AFTER = Decimal("75")
# What each partner is owed for Q4 after the second run (sum of its statements):
# NORTH 6,000.00 + 1,200.00 = 7,200.00; EAST 0.00; SOUTH 300.00 (its qualifier still passes).
OWED_AFTER_ADJUSTMENT = {
    "E2E-NORTH": Decimal("7200.00"),
    "E2E-EAST": Decimal("0.00"),
    "E2E-SOUTH": Decimal("300.00"),
}
LATE_ITEMS = (
    ("E2E-NORTH", "sales_amount", LATE_NORTH_SALES),
    ("E2E-SOUTH", "customer_satisfaction", LATE_SOUTH_SATISFACTION),
)


def observation(
    partner_id: str, code: str, kpi: str, value: Decimal | int, on: date, source: str
) -> dict[str, Any]:
    """One observation with an id derived from what it is, so a resend is a duplicate."""
    return {
        "id": str(uuid.uuid5(_IDS, f"{code}/{kpi}/{on.isoformat()}/{source}")),
        "partner_id": partner_id,
        "kpi": kpi,
        "value": str(value),
        "occurred_on": on.isoformat(),
        "source": source,
    }


def observations_for_months(
    ids: dict[str, str], months: range, source: str
) -> list[dict[str, Any]]:
    """Every partner's sales and satisfaction for `months` of 2025."""
    items = []
    for code, partner_id in ids.items():
        for month in months:
            on = date(YEAR, month, 15)
            items.append(
                observation(partner_id, code, "sales_amount", _SALES[code][month - 1], on, source)
            )
            satisfaction = _SATISFACTION[code][month - 1]
            items.append(
                observation(partner_id, code, "customer_satisfaction", satisfaction, on, source)
            )
    return items


def csv_text(items: list[dict[str, Any]], *extra_rows: str) -> str:
    """A CSV file of the items (header first), then `extra_rows` as they are."""
    columns = ["id", "partner_id", "kpi", "value", "occurred_on", "source"]
    rows = [",".join(str(item[c]) for c in columns) for item in items]
    return "\n".join([",".join(columns), *rows, *extra_rows]) + "\n"
