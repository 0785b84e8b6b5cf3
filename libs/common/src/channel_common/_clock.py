"""The one clock: every "now" and "today" of the suite comes from here.

`CHANNEL_CLOCK` (an ISO date or a UTC date-time) sets where the clock starts; it then runs on
at real speed, so timers, retries and expiries keep working. Tests and demos pin a day with
it (or `pinned_clock`); production leaves it unset. Token lifetimes (`_auth`) stay on the real
time, which other systems share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

__all__ = ["CLOCK_ENV", "parse_clock", "pinned_clock", "today", "utcnow"]

CLOCK_ENV = "CHANNEL_CLOCK"


def parse_clock(value: str) -> datetime:
    """`2028-02-29` (midnight UTC) or `2028-02-29T23:59:00Z` as a UTC date-time."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@lru_cache(maxsize=8)
def _offset(value: str) -> timedelta:
    """How far the pinned clock is from the real one; fixed when a pin is first seen."""
    return parse_clock(value) - datetime.now(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (shifted when `CHANNEL_CLOCK` is set)."""
    pin = os.environ.get(CLOCK_ENV)
    offset = _offset(pin) if pin else timedelta(0)  # first: a new pin is measured from now
    return datetime.now(UTC) + offset


def today() -> date:
    """Today's date in UTC, by the same clock."""
    return utcnow().date()


@contextmanager
def pinned_clock(start: date | datetime) -> Iterator[None]:
    """Run the block (and the processes it starts) with the clock starting at `start`."""
    previous = os.environ.get(CLOCK_ENV)
    os.environ[CLOCK_ENV] = start.isoformat()
    _offset.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(CLOCK_ENV, None)
        else:
            os.environ[CLOCK_ENV] = previous
