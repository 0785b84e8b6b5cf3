"""Verified API keys are kept in memory for `key_cache_seconds`: no database lookup per request,
a key revoked on another replica refused within that bound, on this replica at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from channel_common.testing import app_client
from gateway import repo
from gateway.app import create_app
from gateway.keycache import ApiKeyCache
from gateway.models import ApiKey
from gateway.settings import Settings


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key hashes the gateway looked up in its database, in order."""
    seen: list[str] = []
    find = repo.find_active_api_key

    async def counted(session: Any, *, key_hash: str) -> ApiKey | None:
        seen.append(key_hash)
        return await find(session, key_hash=key_hash)

    monkeypatch.setattr(repo, "find_active_api_key", counted)
    return seen


async def used_key(client: httpx.AsyncClient, create_key: Any) -> dict[str, Any]:
    """A new key, used once (so that it is cached)."""
    key: dict[str, Any] = await create_key(client, ["partners:read"])
    assert (await client.get("/api/v1/partners", headers=key["headers"])).status_code == 200
    return key


def test_the_default_bound_is_at_most_two_seconds() -> None:
    assert 0 < Settings.model_fields["key_cache_seconds"].default <= 2


class TestThroughTheGateway:
    async def test_a_cached_key_is_served_without_a_database_lookup(
        self, make_settings: Callable[..., Settings], create_key: Any, lookups: list[str]
    ) -> None:
        async with app_client(create_app(make_settings(key_cache_seconds=60))) as gateway:
            key = await used_key(gateway, create_key)
            before = len(lookups)
            answers = [
                (await gateway.get("/api/v1/partners", headers=key["headers"])).status_code
                for _ in range(5)
            ]

        assert answers == [200] * 5
        assert len(lookups) == before

    async def test_without_a_cache_every_request_looks_the_key_up(
        self, make_settings: Callable[..., Settings], create_key: Any, lookups: list[str]
    ) -> None:
        async with app_client(create_app(make_settings(key_cache_seconds=0))) as gateway:
            key = await used_key(gateway, create_key)
            before = len(lookups)
            for _ in range(3):
                await gateway.get("/api/v1/partners", headers=key["headers"])

        assert len(lookups) == before + 3

    async def test_a_key_revoked_on_another_replica_is_refused_within_the_bound(
        self, make_settings: Callable[..., Settings], admin: dict[str, str], create_key: Any
    ) -> None:
        bound = 1.0
        settings = make_settings(key_cache_seconds=bound)
        async with (
            app_client(create_app(settings)) as replica_a,
            app_client(create_app(settings)) as replica_b,
        ):
            key = await used_key(replica_a, create_key)
            revoked = await replica_b.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
            revoked_at = time.monotonic()
            answers: list[tuple[float, int]] = []
            while time.monotonic() - revoked_at < bound + 0.5:
                response = await replica_a.get("/api/v1/partners", headers=key["headers"])
                answers.append((time.monotonic() - revoked_at, response.status_code))
                await asyncio.sleep(0.05)

        statuses = [status for _, status in answers]
        first_refusal = statuses.index(401)
        assert revoked.status_code == 204
        # Served from replica A's cache at first, then refused for good within the bound.
        assert statuses[0] == 200
        assert set(statuses[first_refusal:]) == {401}
        assert answers[first_refusal][0] <= bound + 0.2

    async def test_revoking_on_this_replica_refuses_the_key_at_once(
        self,
        make_settings: Callable[..., Settings],
        admin: dict[str, str],
        create_key: Any,
        upstreams: Any,
    ) -> None:
        async with app_client(create_app(make_settings(key_cache_seconds=60))) as gateway:
            key = await used_key(gateway, create_key)
            revoked = await gateway.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
            after = await gateway.get("/api/v1/partners", headers=key["headers"])

        assert revoked.status_code == 204
        assert after.status_code == 401
        assert len(upstreams["partner"].seen) == 1

    async def test_unknown_keys_are_not_cached(
        self, gateway: httpx.AsyncClient, lookups: list[str]
    ) -> None:
        unknown = {"Authorization": "Bearer csk_never-issued-0123456789abcdef"}
        for _ in range(3):
            assert (await gateway.get("/api/v1/partners", headers=unknown)).status_code == 401

        assert len(lookups) == 3


def api_key() -> ApiKey:
    return ApiKey(name="k", key_hash=uuid.uuid4().hex, prefix="csk_", scopes="partners:read")


class TestApiKeyCache:
    def test_an_entry_lives_ttl_from_the_lookup_that_found_it(self) -> None:
        cache = ApiKeyCache(ttl=60)
        key = api_key()

        cache.put("fresh", key, looked_up_at=time.monotonic())
        cache.put("stale", key, looked_up_at=time.monotonic() - 61)

        assert cache.get("fresh") is key
        assert cache.get("stale") is None

    def test_a_lookup_that_raced_a_revocation_is_not_kept(self) -> None:
        cache = ApiKeyCache(ttl=60)
        key = api_key()
        cache.put("a", key, looked_up_at=time.monotonic())
        cache.put("b", key, looked_up_at=time.monotonic())

        cache.revoke(key.id)
        cache.put("a", key, looked_up_at=time.monotonic())

        assert cache.get("a") is None
        assert cache.get("b") is None

    def test_it_holds_at_most_max_entries_dropping_the_oldest(self) -> None:
        cache = ApiKeyCache(ttl=60, max_entries=3)
        now = time.monotonic()
        for name in "abcd":
            cache.put(name, api_key(), looked_up_at=now)

        assert cache.get("a") is None
        assert all(cache.get(name) is not None for name in "bcd")

    def test_ttl_zero_keeps_nothing(self) -> None:
        cache = ApiKeyCache(ttl=0)

        cache.put("a", api_key(), looked_up_at=time.monotonic())

        assert cache.get("a") is None
