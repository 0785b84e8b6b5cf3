"""Program periods as strings: `2026-10` (month), `2026-Q3` (quarter), `2026` (year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["ProgramPeriod", "parse_period", "period_containing"]

_FORMATS = {
    "month": re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
    "quarter": re.compile(r"(\d{4})-Q([1-4])"),
    "year": re.compile(r"(\d{4})"),
}


@dataclass(frozen=True)
class ProgramPeriod:
    """A month, quarter or year: its kind, year and first month (1-12)."""

    kind: str
    year: int
    first_month: int

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.first_month:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{(self.first_month - 1) // 3 + 1}"
        return f"{self.year:04d}"

    @property
    def length(self) -> int:
        """How many months the period has."""
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def months(self) -> list[str]:
        """The months of the period (`YYYY-MM`), in order."""
        first = self.first_month
        return [f"{self.year:04d}-{m:02d}" for m in range(first, first + self.length)]

    @property
    def start(self) -> date:
        """The first day."""
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """The last day (inclusive)."""
        last = self.first_month + self.length
        following = date(self.year + 1, 1, 1) if last > 12 else date(self.year, last, 1)
        return following - timedelta(days=1)

    def year_ago(self) -> ProgramPeriod:
        """The same period a year before (the growth baseline)."""
        return ProgramPeriod(self.kind, self.year - 1, self.first_month)


def parse_period(value: str, kind: str) -> ProgramPeriod | None:
    """The period `value` of `kind`, or None when it is not one."""
    match = _FORMATS[kind].fullmatch(value)
    if match is None:
        return None
    year = int(match.group(1))
    if kind == "month":
        return ProgramPeriod(kind, year, int(match.group(2)))
    if kind == "quarter":
        return ProgramPeriod(kind, year, (int(match.group(2)) - 1) * 3 + 1)
    return ProgramPeriod(kind, year, 1)


def period_containing(day: date, kind: str) -> ProgramPeriod:
    """The period of `kind` that contains `day`."""
    if kind == "month":
        return ProgramPeriod(kind, day.year, day.month)
    if kind == "quarter":
        return ProgramPeriod(kind, day.year, (day.month - 1) // 3 * 3 + 1)
    return ProgramPeriod(kind, day.year, 1)
