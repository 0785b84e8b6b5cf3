"""Verified API keys, kept in memory for a moment so that authenticating a request costs no
database round trip. An entry lives `ttl` seconds from the lookup that found it, so a key
revoked on another replica is refused here within `ttl`; revoking through this replica drops it
at once and keeps it out until any lookup that raced the revocation has expired."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from .models import ApiKey

__all__ = ["ApiKeyCache"]


class ApiKeyCache:
    """Active keys by the hash of their secret, for `ttl` seconds, at most `max_entries`."""

    def __init__(self, *, ttl: float, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()
        # Keys revoked here, until when no lookup begun before the revocation may be cached.
        self._revoked: dict[uuid.UUID, float] = {}

    @property
    def enabled(self) -> bool:
        """Whether keys are kept at all (`ttl` > 0)."""
        return self._ttl > 0

    def get(self, key_hash: str) -> ApiKey | None:
        """The cached active key whose secret hashes to `key_hash`, unless expired."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key_hash]
            return None
        return entry[1]

    def put(self, key_hash: str, api_key: ApiKey, *, looked_up_at: float) -> None:
        """Keep `api_key`, found by a lookup begun at `looked_up_at` (`time.monotonic()`), until
        `ttl` after that lookup: its answer is never older than `ttl`."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self._revoked.get(api_key.id, now) > now:
            return  # the lookup may have raced this replica's revocation
        if len(self._entries) >= self._max_entries:
            self._evict(now)
        self._entries[key_hash] = (looked_up_at + self._ttl, api_key)

    def revoke(self, key_id: uuid.UUID) -> None:
        """Drop `key_id` now, and refuse to keep it for `ttl` (lookups in flight may still see
        it active until the revocation commits)."""
        now = time.monotonic()
        self._revoked = {k: until for k, until in self._revoked.items() if until > now}
        self._revoked[key_id] = now + self._ttl
        stale = [h for h, (_, api_key) in self._entries.items() if api_key.id == key_id]
        for key_hash in stale:
            del self._entries[key_hash]

    def _evict(self, now: float) -> None:
        """Make room: drop the expired entries, else the oldest."""
        for key_hash in [h for h, (until, _) in self._entries.items() if until <= now]:
            del self._entries[key_hash]
        while len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)
