"""Business periods of alert rules: days (`2026-10-15`) and months (`2026-10`)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

__all__ = [
    "Granularity",
    "period_bounds",
    "period_of",
    "previous_period",
    "shift_periods",
    "year_ago",
]

Granularity = Literal["day", "month"]
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def is_period(period: str, granularity: str) -> bool:
    """Whether `period` is a valid period of `granularity` (`2026-10-15` / `2026-10`)."""
    if granularity == "month":
        return _MONTH.fullmatch(period) is not None
    if granularity != "day" or len(period) != 10:
        return False
    try:
        date.fromisoformat(period)
    except ValueError:
        return False
    return True


def period_of(day: date, granularity: Granularity) -> str:
    """The period of `granularity` containing `day`."""
    return day.isoformat() if granularity == "day" else f"{day.year:04d}-{day.month:02d}"


def _month(period: str) -> tuple[int, int]:
    year, month = period.split("-")[:2]
    return int(year), int(month)


def previous_period(period: str, granularity: Granularity) -> str:
    """The period right before `period`."""
    return shift_periods(period, granularity, -1)


def shift_periods(period: str, granularity: Granularity, count: int) -> str:
    """`period` moved by `count` periods (negative: back in time)."""
    if granularity == "day":
        return (date.fromisoformat(period) + timedelta(days=count)).isoformat()
    year, month = _month(period)
    index = year * 12 + (month - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def year_ago(period: str, granularity: Granularity) -> str:
    """The same period one year earlier (29 February maps to 28 February)."""
    if granularity == "month":
        return shift_periods(period, granularity, -12)
    day = date.fromisoformat(period)
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year - 1).isoformat()


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of a day or month period."""
    if len(period) == 10:
        day = date.fromisoformat(period)
        return day, day
    year, month = _month(period)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)
