"""The per-principal rate limit: a token bucket, 429 with Retry-After beyond it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channel_common.testing import app_client, bearer
from gateway.app import create_app
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestTokenBucket:
    def test_allows_the_burst_then_refuses(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=3, clock=FakeClock())

        answers = [limiter.acquire("p") for _ in range(4)]

        assert answers == [None, None, None, 1]

    def test_refills_at_the_rate(self) -> None:
        clock = FakeClock()
        limiter = RateLimiter(rate=2.0, burst=2, clock=clock)
        limiter.acquire("p"), limiter.acquire("p")

        clock.now += 0.5

        assert limiter.acquire("p") is None
        assert limiter.acquire("p") == 1

    def test_retry_after_is_whole_seconds_until_a_token(self) -> None:
        limiter = RateLimiter(rate=0.25, burst=1, clock=FakeClock())
        limiter.acquire("p")

        assert limiter.acquire("p") == 4

    def test_principals_have_their_own_buckets(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=1, clock=FakeClock())

        assert limiter.acquire("a") is None
        assert limiter.acquire("b") is None
        assert limiter.acquire("a") == 1

    def test_never_saves_more_than_the_burst(self) -> None:
        clock = FakeClock()
        limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
        limiter.acquire("p")
        clock.now += 3600

        assert [limiter.acquire("p") for _ in range(3)] == [None, None, 1]


class TestRateLimitAtTheGateway:
    async def test_a_burst_over_the_limit_gets_429_with_retry_after(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(rate_limit_per_second=0.5, rate_limit_burst=3)
        noisy = bearer(settings, ["partners:read"], subject="noisy")
        async with app_client(create_app(settings)) as client:
            answers = [await client.get("/api/v1/partners", headers=noisy) for _ in range(5)]
            quiet = await client.get("/api/v1/partners", headers=bearer(settings, ["admin"]))
            metrics = (await client.get("/metrics")).text

        assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
        limited = answers[3]
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["status"] == 429
        assert len(upstreams["partner"].seen) == 4  # three of noisy's, one of quiet's
        assert quiet.status_code == 200
        assert "gateway_rate_limited_total" in metrics

    async def test_own_routes_are_limited_but_health_and_docs_are_not(
        self, make_settings: Callable[..., Settings], admin: dict[str, str]
    ) -> None:
        settings = make_settings(rate_limit_per_second=0.1, rate_limit_burst=1)
        async with app_client(create_app(settings)) as client:
            first = await client.get("/api/v1/api-keys", headers=admin)
            second = await client.get("/api/v1/api-keys", headers=admin)
            public = [await client.get(path) for path in ("/livez", "/metrics", "/docs") * 3]

        assert (first.status_code, second.status_code) == (200, 429)
        assert all(r.status_code == 200 for r in public)

    async def test_an_api_key_and_the_jwt_it_was_exchanged_for_share_a_bucket(
        self, make_settings: Callable[..., Settings], upstreams: Any, create_key: Any
    ) -> None:
        settings = make_settings(rate_limit_per_second=0.1, rate_limit_burst=2)
        async with app_client(create_app(settings)) as client:
            key = await create_key(client, ["partners:read"])
            await client.get("/api/v1/partners", headers=key["headers"])
            minted = upstreams["partner"].seen[0]["headers"]["authorization"]
            by_jwt = await client.get("/api/v1/partners", headers={"Authorization": minted})
            by_key = await client.get("/api/v1/partners", headers=key["headers"])

        assert (by_jwt.status_code, by_key.status_code) == (200, 429)


class TestBucketMemory:
    def test_idle_buckets_are_forgotten_when_there_are_many(self) -> None:
        clock = FakeClock()
        limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
        for n in range(10_001):
            limiter.acquire(f"p{n}")
        clock.now += 5  # every bucket has refilled by now

        limiter.acquire("fresh")

        assert limiter.tracked == 1
