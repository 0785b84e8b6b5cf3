"""The demo channel: who the partners are, their programs and alert rules, and a believable
KPI history (seasonal, growing, two partners in trouble). Pure data, no HTTP."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "ALERT_RULES",
    "PARTNERS",
    "PROGRAMS",
    "TROUBLED",
    "DemoPartner",
    "Observation",
    "history_months",
    "late_reports_csv",
    "month_label",
    "observations",
    "quarter_of",
    "sum_sales",
    "to_ndjson",
]

NAMESPACE = uuid.UUID("6f1d3c52-2b7e-4c1a-9a57-0c8d1e9b7a10")
MIN_MONTHS = 18
TROUBLE_MONTHS = 8
# Retail peaks: Chinese New Year (Jan), 618 (Jun), Golden Week (Oct), Double 11 (Nov), year end.
SEASON = (1.10, 0.80, 0.90, 0.95, 1.00, 1.15, 0.95, 0.95, 1.05, 1.05, 1.30, 1.20)
ONLINE_NOVEMBER = 1.6
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MILLI = Decimal("0.001")


@dataclass(frozen=True)
class DemoPartner:
    """One partner of the demo channel and the shape of its figures."""

    code: str
    name: str
    type: str
    tier: str
    region: str
    parent: str | None
    qualification: tuple[str, int, int]  # registered capital, years, service staff
    monthly_sales: int  # an average month, a year before the end of the history
    growth: float  # per year
    satisfaction: float
    territories: tuple[tuple[str, bool], ...] = ()
    trouble: str | None = None  # "sales" (falling) or "satisfaction" (sinking)


def _dist(
    code: str, name: str, tier: str, region: str, parent: str | None, **kw: Any
) -> DemoPartner:
    return DemoPartner(code, name, "distributor", tier, region, parent, **kw)


def _shop(code: str, name: str, region: str, parent: str, **kw: Any) -> DemoPartner:
    kw.setdefault("qualification", ("500000", 2, 3))
    return DemoPartner(code, name, "retailer", "registered", region, parent, **kw)


PARTNERS: tuple[DemoPartner, ...] = (
    # Provincial distributors: territory the whole province, shared.
    _dist("DIST-GD", "Lingnan Trading (Guangdong)", "platinum", "CN-GD", None,
          qualification=("80000000", 15, 120), monthly_sales=4_200_000, growth=0.12,
          satisfaction=88, territories=(("CN-GD", False),)),
    _dist("DIST-ZJ", "Qiantang Distribution (Zhejiang)", "gold", "CN-ZJ", None,
          qualification=("30000000", 9, 45), monthly_sales=3_100_000, growth=0.09,
          satisfaction=86, territories=(("CN-ZJ", False),)),
    _dist("DIST-SC", "Tianfu Supply Chain (Sichuan)", "gold", "CN-SC", None,
          qualification=("25000000", 7, 35), monthly_sales=2_600_000, growth=0.15,
          satisfaction=87, territories=(("CN-SC", False),)),
    # City distributors: an exclusive city each.
    _dist("DIST-GD-GZ", "Yuexiu Distribution (Guangzhou)", "gold", "CN-GD-GZ", "DIST-GD",
          qualification=("12000000", 6, 24), monthly_sales=1_450_000, growth=0.10,
          satisfaction=85, territories=(("CN-GD-GZ", True),)),
    _dist("DIST-GD-SZ", "Nanshan Supply (Shenzhen)", "silver", "CN-GD-SZ", "DIST-GD",
          qualification=("5000000", 4, 12), monthly_sales=1_200_000, growth=0.18,
          satisfaction=89, territories=(("CN-GD-SZ", True),)),
    _dist("DIST-ZJ-HZ", "West Lake Trading (Hangzhou)", "silver", "CN-ZJ-HZ", "DIST-ZJ",
          qualification=("4000000", 3, 10), monthly_sales=950_000, growth=0.07,
          satisfaction=84, territories=(("CN-ZJ-HZ", True),)),
    _dist("DIST-ZJ-NB", "Harbour Distribution (Ningbo)", "silver", "CN-ZJ-NB", "DIST-ZJ",
          qualification=("3000000", 3, 8), monthly_sales=800_000, growth=0.11,
          satisfaction=86, territories=(("CN-ZJ-NB", True),)),
    _dist("DIST-SC-CD", "Jinjiang Distribution (Chengdu)", "gold", "CN-SC-CD", "DIST-SC",
          qualification=("11000000", 6, 22), monthly_sales=1_300_000, growth=0.08,
          satisfaction=85, territories=(("CN-SC-CD", True),), trouble="sales"),
    _dist("DIST-SC-MY", "Fucheng Trading (Mianyang)", "silver", "CN-SC-MY", "DIST-SC",
          qualification=("2500000", 2, 6), monthly_sales=600_000, growth=0.13,
          satisfaction=87, territories=(("CN-SC-MY", True),)),
    # Retailers under the city distributors.
    _shop("SHOP-GD-GZ-01", "Tianhe Mall Store", "CN-GD-GZ", "DIST-GD-GZ",
          monthly_sales=160_000, growth=0.14, satisfaction=88),
    _shop("SHOP-GD-GZ-02", "Beijing Road Store", "CN-GD-GZ", "DIST-GD-GZ",
          monthly_sales=120_000, growth=0.06, satisfaction=85),
    _shop("SHOP-GD-SZ-01", "Futian CBD Store", "CN-GD-SZ", "DIST-GD-SZ",
          monthly_sales=150_000, growth=0.22, satisfaction=90),
    _shop("SHOP-GD-SZ-02", "Coastal City Store", "CN-GD-SZ", "DIST-GD-SZ",
          monthly_sales=140_000, growth=0.05, satisfaction=86, trouble="satisfaction"),
    _shop("SHOP-ZJ-HZ-01", "Hubin Store", "CN-ZJ-HZ", "DIST-ZJ-HZ",
          monthly_sales=130_000, growth=0.11, satisfaction=87),
    _shop("SHOP-ZJ-HZ-02", "Wulin Store", "CN-ZJ-HZ", "DIST-ZJ-HZ",
          monthly_sales=90_000, growth=0.04, satisfaction=84),
    _shop("SHOP-ZJ-NB-01", "Tianyi Square Store", "CN-ZJ-NB", "DIST-ZJ-NB",
          monthly_sales=95_000, growth=0.09, satisfaction=86),
    _shop("SHOP-SC-CD-01", "Chunxi Road Store", "CN-SC-CD", "DIST-SC-CD",
          monthly_sales=145_000, growth=0.17, satisfaction=89),
    _shop("SHOP-SC-CD-02", "Taikoo Li Store", "CN-SC-CD", "DIST-SC-CD",
          monthly_sales=125_000, growth=0.12, satisfaction=88),
    _shop("SHOP-SC-MY-01", "Wanda Plaza Store", "CN-SC-MY", "DIST-SC-MY",
          monthly_sales=70_000, growth=0.08, satisfaction=85),
    # The brand's own online flagship, selling nationwide.
    DemoPartner("ONLINE-TMALL", "Flagship Store on Tmall", "online", "gold", "CN", None,
                qualification=("20000000", 6, 40), monthly_sales=1_600_000, growth=0.25,
                satisfaction=91, territories=(("CN", False),)),
)  # fmt: skip

BY_CODE = {p.code: p for p in PARTNERS}
# The two partners the alert rules catch: (rule name, partner code).
TROUBLED = (
    ("Sales down on a year ago", "DIST-SC-CD"),
    ("Customer satisfaction low", "SHOP-GD-SZ-02"),
)

QUARTERLY = "Distributor quarterly volume rebate"
ANNUAL = "Retail annual growth bonus"


def program_bodies(first_day: date) -> list[dict[str, Any]]:
    """The two rebate programs, valid from the first day of the history."""
    return [
        {
            "name": QUARTERLY,
            "currency": "CNY",
            "period": "quarter",
            "basis": {"kpi": "sales_amount", "type": "volume"},
            "method": "retroactive",
            "tiers": [
                {"from": "0", "rate": "0.01"},
                {"from": "3000000", "rate": "0.02"},
                {"from": "6000000", "rate": "0.025"},
                {"from": "10000000", "rate": "0.03"},
            ],
            "eligibility": {"types": ["distributor"]},
            "valid_from": first_day.isoformat(),
            "status": "active",
        },
        {
            "name": ANNUAL,
            "currency": "CNY",
            "period": "year",
            "basis": {"kpi": "sales_amount", "type": "growth"},
            "method": "retroactive",
            "tiers": [
                {"from": "0.05", "rate": "0.01"},
                {"from": "0.10", "rate": "0.02"},
                {"from": "0.20", "rate": "0.03"},
            ],
            "eligibility": {"types": ["retailer", "online"]},
            "qualifiers": [{"kpi": "customer_satisfaction", "op": "gte", "value": "80"}],
            "cap": "200000",
            "valid_from": first_day.isoformat(),
            "status": "active",
        },
    ]


PROGRAMS = (QUARTERLY, ANNUAL)

ALERT_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": TROUBLED[0][0],
        "kpi": "sales_amount",
        "granularity": "month",
        "condition": {"type": "change", "compare_to": "year_ago", "op": "lt", "pct": "-0.25"},
        "for_periods": 2,
        "severity": "critical",
        "labels": {"team": "channel-sales"},
    },
    {
        "name": TROUBLED[1][0],
        "kpi": "customer_satisfaction",
        "granularity": "month",
        "condition": {"type": "threshold", "op": "lt", "value": "70"},
        "for_periods": 2,
        "severity": "warning",
        "labels": {"team": "service-quality"},
    },
)


@dataclass(frozen=True)
class Observation:
    """One monthly report of a KPI (the current month's is month-to-date)."""

    id: str
    code: str
    kpi: str
    value: Decimal
    occurred_on: date
    month: str
    region: str = field(default="")


def month_label(day: date) -> str:
    """`YYYY-MM` of a day."""
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(day: date) -> str:
    """`YYYY-Qn` of a day."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def history_months(today: date) -> list[date]:
    """First days of the months reported: at least 18, and always from January of last year,
    so the annual growth program has a whole year to compare with."""
    current = today.replace(day=1)
    start = min(_add_months(current, -(MIN_MONTHS - 1)), date(today.year - 1, 1, 1))
    months = []
    while start <= current:
        months.append(start)
        start = _add_months(start, 1)
    return months


def _month_end(first: date) -> date:
    return _add_months(first, 1) - timedelta(days=1)


def _sales_factor(partner: DemoPartner, age: int) -> float:
    """Trouble on top of the trend; `age` = months before the current one. Falling sales
    halve eight months back and keep sinking, so every quarter the demo can settle shows them
    (first tier only, a quarter of the year before gone) whatever the day it runs."""
    if partner.trouble == "sales" and age < TROUBLE_MONTHS:
        return 0.55 * 0.95 ** (TROUBLE_MONTHS - 1 - age)
    return 1.0


def _satisfaction(partner: DemoPartner, age: int, rng: random.Random) -> float:
    if partner.trouble == "satisfaction" and age < 4:
        return (74.0, 68.0, 64.0, 61.0)[3 - age] + rng.uniform(-0.8, 0.8)
    return partner.satisfaction + rng.uniform(-1.5, 1.5)


def _q(value: float, step: Decimal) -> Decimal:
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def observations(today: date) -> list[Observation]:
    """Every partner's monthly figures, oldest month first; the current month to date."""
    months = history_months(today)
    current = months[-1]
    rows: list[Observation] = []
    for first in months:
        age = (current.year - first.year) * 12 + current.month - first.month
        ends = today if first == current else _month_end(first)
        share = (today.day / _month_end(first).day) if first == current else 1.0
        for partner in PARTNERS:
            rng = random.Random(f"{partner.code}:{month_label(first)}")  # noqa: S311 - demo figures
            season = SEASON[first.month - 1]
            if partner.type == "online" and first.month == 11:
                season = ONLINE_NOVEMBER
            trend = (1 + partner.growth) ** ((12 - age) / 12)
            sales = partner.monthly_sales * season * trend * rng.uniform(0.97, 1.03)
            sales *= _sales_factor(partner, age) * share
            price = {"distributor": 380.0, "retailer": 520.0, "online": 450.0}[partner.type]
            figures: dict[str, Decimal] = {
                "sales_amount": _q(sales, CENT),
                "units_sold": _q(sales / price, Decimal(1)),
                "customer_satisfaction": _q(_satisfaction(partner, age, rng), TENTH),
            }
            if partner.type == "distributor":
                figures["inventory_turnover"] = _q(rng.uniform(5.5, 7.5), TENTH)
                figures["retention_rate"] = _q(rng.uniform(0.86, 0.94), MILLI)
                stores = partner.monthly_sales / 12_000 * trend
                figures["store_coverage"] = _q(stores, Decimal(1))
            else:
                low, high = (0.02, 0.04) if partner.type == "online" else (0.18, 0.28)
                figures["conversion_rate"] = _q(rng.uniform(low, high), MILLI)
                figures["inventory_turnover"] = _q(rng.uniform(7.0, 10.0), TENTH)
            label = month_label(first)
            rows.extend(
                Observation(
                    id=str(uuid.uuid5(NAMESPACE, f"{partner.code}:{kpi}:{label}")),
                    code=partner.code,
                    kpi=kpi,
                    value=value,
                    occurred_on=ends,
                    month=label,
                    region=partner.region,
                )
                for kpi, value in figures.items()
            )
    return rows


def to_ndjson(rows: Iterable[Observation], partner_ids: dict[str, str]) -> Iterator[bytes]:
    """The observations as NDJSON lines, with the partners' ids."""
    for row in rows:
        line = {
            "id": row.id,
            "partner_id": partner_ids[row.code],
            "kpi": row.kpi,
            "value": str(row.value),
            "occurred_on": row.occurred_on.isoformat(),
            "region": row.region,
            "source": "demo",
        }
        yield json.dumps(line).encode() + b"\n"


def sum_sales(rows: Iterable[Observation], code: str, months: set[str]) -> Decimal:
    """A partner's sales over some months (what an accrual's basis should show)."""
    return sum(
        (r.value for r in rows if r.code == code and r.kpi == "sales_amount" and r.month in months),
        Decimal(0),
    )


def late_reports_csv(rows: list[Observation], partner_ids: dict[str, str], today: date) -> str:
    """A small CSV for the tour: two late unit counts, one repeated line, three bad ones."""
    shop, other = partner_ids["SHOP-ZJ-HZ-01"], partner_ids["SHOP-SC-CD-01"]
    repeated = next(r for r in rows if r.code == "DIST-GD" and r.kpi == "units_sold")
    day = today.isoformat()
    lines = [
        "id,partner_id,kpi,value,occurred_on,region,source",
        f"{uuid.uuid5(NAMESPACE, 'late:1')},{shop},units_sold,42,{day},CN-ZJ-HZ,pos",
        f"{uuid.uuid5(NAMESPACE, 'late:2')},{other},units_sold,37,{day},CN-SC-CD,pos",
        f"{repeated.id},{partner_ids['DIST-GD']},units_sold,{repeated.value},"
        f"{repeated.occurred_on.isoformat()},CN-GD,erp",
        f"{uuid.uuid5(NAMESPACE, 'late:3')},{shop},customer_satisfaction,140,{day},CN-ZJ-HZ,survey",
        f"{uuid.uuid5(NAMESPACE, 'late:4')},{shop},footfall,1200,{day},CN-ZJ-HZ,pos",
        f"{uuid.uuid5(NAMESPACE, 'late:5')},{other},units_sold,many,{day},CN-SC-CD,pos",
    ]
    return "\n".join(lines) + "\n"
