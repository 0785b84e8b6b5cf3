"""Calendar periods on the wire: `2026-10-15` (day), `2026-W42` (ISO week), `2026-10` (month),
`2026-Q4` (quarter) and `2026` (year) — parsing, formatting, containment, bounds and shifts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "Granularity",
    "Period",
    "is_period",
    "parse_period",
    "period_of",
    "periods_between",
]


class Granularity(StrEnum):
    """The length of a period."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# ASCII digits only: `\d` would also read other scripts' digits as a year.
_PATTERNS = (
    (Granularity.DAY, re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    (Granularity.WEEK, re.compile(r"([0-9]{4})-W([0-9]{2})")),
    (Granularity.MONTH, re.compile(r"([0-9]{4})-([0-9]{2})")),
    (Granularity.QUARTER, re.compile(r"([0-9]{4})-Q([1-4])")),
    (Granularity.YEAR, re.compile(r"([0-9]{4})")),
)
_MONTHS = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.YEAR: 12}

# Every period in range has a previous, a next and a year-ago period that `date` can hold.
_FIRST_YEAR, _LAST_YEAR = 1901, 9998


@dataclass(frozen=True)
class Period:
    """A calendar period: its granularity and first day (`str()` gives its wire form)."""

    granularity: Granularity
    start: date

    def __str__(self) -> str:
        start = self.start
        match self.granularity:
            case Granularity.DAY:
                return start.isoformat()
            case Granularity.WEEK:
                year, week, _ = start.isocalendar()
                return f"{year:04d}-W{week:02d}"
            case Granularity.MONTH:
                return f"{start.year:04d}-{start.month:02d}"
            case Granularity.QUARTER:
                return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
            case Granularity.YEAR:
                return f"{start.year:04d}"

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return self.next().start - timedelta(days=1)

    @property
    def bounds(self) -> tuple[date, date]:
        """The first and the last day (inclusive)."""
        return self.start, self.end

    def contains(self, other: Period | date) -> bool:
        """Whether a day, or every day of another period, lies inside this period."""
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other <= self.end

    def next(self) -> Period:
        """The period of the same granularity right after this one."""
        return self.shifted(1)

    def previous(self) -> Period:
        """The period of the same granularity right before this one."""
        return self.shifted(-1)

    def year_ago(self) -> Period:
        """The same period one year earlier (29 Feb → 28 Feb, week 53 → week 52)."""
        start = self.start
        match self.granularity:
            case Granularity.DAY:
                if (start.month, start.day) == (2, 29):
                    return Period(self.granularity, date(start.year - 1, 2, 28))
                return Period(self.granularity, start.replace(year=start.year - 1))
            case Granularity.WEEK:
                year, week, _ = start.isocalendar()
                weeks_then = date(year - 1, 12, 28).isocalendar()[1]
                return Period(
                    self.granularity, date.fromisocalendar(year - 1, min(week, weeks_then), 1)
                )
            case Granularity.MONTH | Granularity.QUARTER | Granularity.YEAR:
                return Period(self.granularity, start.replace(year=start.year - 1))

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods of the same granularity later (earlier when negative)."""
        start = self.start
        match self.granularity:
            case Granularity.DAY:
                return Period(self.granularity, start + timedelta(days=steps))
            case Granularity.WEEK:
                return Period(self.granularity, start + timedelta(weeks=steps))
            case Granularity.MONTH | Granularity.QUARTER | Granularity.YEAR:
                index = start.year * 12 + start.month - 1 + steps * _MONTHS[self.granularity]
                return Period(self.granularity, date(index // 12, index % 12 + 1, 1))

    def parts(self, granularity: Granularity) -> list[Period]:
        """The periods of a finer `granularity` that make up this one, in order."""
        first = period_of(self.start, granularity)
        if not self.contains(first) or not self.contains(period_of(self.end, granularity)):
            raise ValueError(f"a {self.granularity} is not made of whole {granularity}s")
        return list(periods_between(first, period_of(self.end, granularity)))


def parse_period(text: str, granularity: Granularity | None = None) -> Period:
    """The period a string names; ValueError when it is not one of the five forms (or, with
    `granularity`, not a period of that granularity)."""
    for candidate, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if granularity is not None and candidate != granularity:
            break
        return _period(text, candidate, [int(part) for part in match.groups()])
    if granularity is not None:
        raise ValueError(f"{text!r} is not a {granularity} period")
    raise ValueError(f"{text!r} is not a period (YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn or YYYY)")


def _period(text: str, granularity: Granularity, numbers: list[int]) -> Period:
    year, *rest = numbers
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise ValueError(f"{text!r} is not a period of the years {_FIRST_YEAR} to {_LAST_YEAR}")
    try:
        match granularity:
            case Granularity.DAY:
                return Period(granularity, date(year, rest[0], rest[1]))
            case Granularity.WEEK:
                return Period(granularity, date.fromisocalendar(year, rest[0], 1))
            case Granularity.MONTH:
                return Period(granularity, date(year, rest[0], 1))
            case Granularity.QUARTER:
                return Period(granularity, date(year, 3 * rest[0] - 2, 1))
            case Granularity.YEAR:
                return Period(granularity, date(year, 1, 1))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid period") from exc


def is_period(text: str, granularity: Granularity | None = None) -> bool:
    """Whether `text` is a period (of `granularity`, when given)."""
    try:
        parse_period(text, granularity)
    except ValueError:
        return False
    return True


def period_of(day: date, granularity: Granularity) -> Period:
    """The period of `granularity` that contains `day`."""
    match granularity:
        case Granularity.DAY:
            return Period(granularity, day)
        case Granularity.WEEK:
            return Period(granularity, day - timedelta(days=day.weekday()))
        case Granularity.MONTH:
            return Period(granularity, day.replace(day=1))
        case Granularity.QUARTER:
            return Period(granularity, date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
        case Granularity.YEAR:
            return Period(granularity, date(day.year, 1, 1))


def periods_between(first: Period, last: Period) -> Iterator[Period]:
    """`first`, `last` and every period of their granularity between them."""
    if first.granularity != last.granularity:
        raise ValueError("periods of different granularities")
    current = first
    while current.start <= last.start:
        yield current
        current = current.next()
