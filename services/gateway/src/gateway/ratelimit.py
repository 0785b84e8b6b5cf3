"""Per-principal token buckets, in the memory of this process.

Each replica limits on its own: with N replicas a principal gets up to N times the rate. That
is the price of keeping the gateway free of shared state; a shared store would be the next step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from .metrics import RATE_LIMITED

__all__ = ["RateLimiter"]

_SWEEP_ABOVE = 10_000


class RateLimiter:
    """A token bucket per principal: `rate` tokens a second, at most `burst` saved up."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # principal → (tokens, updated at)
        self._swept_at = clock()

    def acquire(self, principal: str) -> int | None:
        """Take one token for `principal`: None when allowed, else the seconds to wait (≥ 1)."""
        now = self._clock()
        tokens, updated = self._buckets.get(principal, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        if tokens < 1.0:
            self._buckets[principal] = (tokens, now)
            RATE_LIMITED.inc()
            return max(1, math.ceil((1.0 - tokens) / self._rate))
        self._buckets[principal] = (tokens - 1.0, now)
        if len(self._buckets) > _SWEEP_ABOVE and now - self._swept_at >= 1.0:
            self._sweep(now)
        return None

    @property
    def tracked(self) -> int:
        """How many principals have a bucket in memory."""
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        """Forget buckets that have refilled: they equal a new bucket."""
        full_after = self._burst / self._rate
        self._swept_at = now
        self._buckets = {
            key: (tokens, updated)
            for key, (tokens, updated) in self._buckets.items()
            if now - updated < full_after
        }
