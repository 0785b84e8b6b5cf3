"""The API-key → JWT exchange: mints the short-lived tokens services verify, caching the
signature (never the key lookup) for half the token's lifetime."""

from __future__ import annotations

import time
import uuid

from channel_common import issue_token

from .models import ApiKey
from .settings import Settings

__all__ = ["API_KEY_SUBJECT_PREFIX", "TokenMinter"]

API_KEY_SUBJECT_PREFIX = "apikey:"


class TokenMinter:
    """Signs a JWT for an API key; reuses it while more than half its lifetime remains."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.jwt_key.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._ttl = settings.token_ttl_seconds
        self._cache: dict[uuid.UUID, tuple[float, str]] = {}

    def token_for(self, api_key: ApiKey) -> str:
        """A valid JWT naming `apikey:<id>` with the key's scopes and partner."""
        now = time.monotonic()
        cached = self._cache.get(api_key.id)
        if cached is not None and cached[0] > now:
            return cached[1]
        token: str = issue_token(
            key=self._key,
            algorithm=self._algorithm,
            issuer=self._issuer,
            audience=self._audience,
            subject=f"{API_KEY_SUBJECT_PREFIX}{api_key.id}",
            scopes=api_key.scope_list,
            partner_id=api_key.partner_id,
            ttl_seconds=self._ttl,
        )
        if len(self._cache) > 10_000:  # bounded: drop what has expired
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[api_key.id] = (now + self._ttl / 2, token)
        return token

    def forget(self, key_id: uuid.UUID) -> None:
        """Drop the cached token of a revoked key."""
        self._cache.pop(key_id, None)
