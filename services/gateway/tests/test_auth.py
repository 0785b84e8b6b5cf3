"""Authentication at the gateway: API keys become short-lived JWTs, JWTs pass through, and
nothing without valid credentials reaches a service."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from channel_common import JWTVerifier, issue_token
from channel_common.testing import TEST_JWT_KEY, app_client, bearer
from gateway.app import create_app
from gateway.settings import Settings


def verifier_of(settings: Settings) -> JWTVerifier:
    """A verifier configured like every service."""
    return JWTVerifier.from_settings(settings)


def forwarded_token(record: dict[str, Any]) -> str:
    scheme, _, token = record["headers"]["authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


class TestApiKeyExchange:
    async def test_upstream_sees_a_valid_jwt_with_the_keys_scopes_and_partner(
        self, gateway: httpx.AsyncClient, upstreams: Any, settings: Settings, create_key: Any
    ) -> None:
        partner_id = str(uuid.uuid4())
        key = await create_key(gateway, ["partners:read", "kpis:read"], partner_id=partner_id)

        response = await gateway.get("/api/v1/partners?status=active", headers=key["headers"])

        assert response.status_code == 200
        (seen,) = upstreams["partner"].seen
        assert seen["path"] == "/api/v1/partners"
        assert seen["query"] == "status=active"
        principal = verifier_of(settings).verify(forwarded_token(seen))
        assert principal.subject == f"apikey:{key['id']}"
        assert principal.scopes == {"partners:read", "kpis:read"}
        assert str(principal.partner_id) == partner_id
        assert key["key"] not in str(seen["headers"])

    async def test_minted_token_lives_token_ttl_seconds(
        self, gateway: httpx.AsyncClient, upstreams: Any, settings: Settings, create_key: Any
    ) -> None:
        key = await create_key(gateway, ["kpis:read"])

        await gateway.get("/api/v1/kpis/sales_amount/series", headers=key["headers"])

        claims = jwt.decode(
            forwarded_token(upstreams["kpi"].seen[0]), options={"verify_signature": False}
        )
        assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds
        assert claims["exp"] > time.time()

    async def test_minted_token_is_reused_while_fresh(
        self, gateway: httpx.AsyncClient, upstreams: Any, create_key: Any
    ) -> None:
        key = await create_key(gateway, ["alerts:read"])

        await gateway.get("/api/v1/alerts", headers=key["headers"])
        await gateway.get("/api/v1/alerts", headers=key["headers"])

        first, second = upstreams["alert"].seen
        assert forwarded_token(first) == forwarded_token(second)

    async def test_a_jwt_is_passed_through_unchanged(
        self, gateway: httpx.AsyncClient, upstreams: Any, settings: Settings
    ) -> None:
        headers = bearer(settings, ["rebates:read"], subject="erp")

        response = await gateway.get("/api/v1/rebate-programs", headers=headers)

        assert response.status_code == 200
        assert upstreams["rebate"].seen[0]["headers"]["authorization"] == headers["Authorization"]


def _none_algorithm_token() -> str:
    claims = {
        "sub": "mallory",
        "iss": "channel-suite",
        "aud": "channel-suite",
        "exp": int(time.time()) + 300,
        "scope": "admin",
    }
    return jwt.encode(claims, None, algorithm="none")


def _token(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "key": TEST_JWT_KEY,
        "algorithm": "HS256",
        "issuer": "channel-suite",
        "audience": "channel-suite",
        "subject": "someone",
        "scopes": ["admin"],
    }
    return issue_token(**(values | overrides))


BAD_CREDENTIALS = {
    "no header": {},
    "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
    "empty bearer": {"Authorization": "Bearer "},
    "unknown key": {"Authorization": "Bearer csk_this-key-was-never-issued-0000000000"},
    "expired jwt": {"Authorization": f"Bearer {_token(ttl_seconds=-60)}"},
    "alg none jwt": {"Authorization": f"Bearer {_none_algorithm_token()}"},
    "wrong audience": {"Authorization": f"Bearer {_token(audience='another-suite')}"},
    "wrong issuer": {"Authorization": f"Bearer {_token(issuer='someone-else')}"},
    "wrong signing key": {"Authorization": f"Bearer {_token(key='x' * 48)}"},
    "garbage": {"Authorization": "Bearer not-a-token"},
}


class TestRejectsBadCredentials:
    @pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
    async def test_answers_401_problem_and_calls_no_service(
        self, gateway: httpx.AsyncClient, upstreams: Any, credentials: dict[str, str]
    ) -> None:
        response = await gateway.post("/api/v1/partners", json={"code": "P1"}, headers=credentials)

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["status"] == 401
        assert response.headers["x-request-id"]
        assert all(not server.seen for server in upstreams.values())

    async def test_revoked_key_is_refused_from_then_on(
        self, gateway: httpx.AsyncClient, upstreams: Any, admin: dict[str, str], create_key: Any
    ) -> None:
        key = await create_key(gateway, ["partners:read"])
        assert (await gateway.get("/api/v1/partners", headers=key["headers"])).status_code == 200

        revoked = await gateway.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
        after = await gateway.get("/api/v1/partners", headers=key["headers"])

        assert revoked.status_code == 204
        assert after.status_code == 401
        assert len(upstreams["partner"].seen) == 1

    async def test_a_key_revoked_by_another_replica_is_refused(
        self, make_settings: Any, upstreams: Any, admin: dict[str, str], create_key: Any
    ) -> None:
        # Replica A trusts a verified key for key_cache_seconds (see test_key_cache.py).
        settings = make_settings(key_cache_seconds=0.2)
        async with (
            app_client(create_app(settings)) as replica_a,
            app_client(create_app(settings)) as replica_b,
        ):
            key = await create_key(replica_a, ["partners:read"])
            assert (await replica_a.get("/api/v1/tiers", headers=key["headers"])).status_code == 200

            await replica_b.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
            await asyncio.sleep(0.2)

            assert (await replica_a.get("/api/v1/tiers", headers=key["headers"])).status_code == 401

    async def test_unknown_api_paths_need_credentials_too(self, gateway: httpx.AsyncClient) -> None:
        response = await gateway.get("/api/v1/nothing-here")

        assert response.status_code == 401


class TestPublicPaths:
    @pytest.mark.parametrize("path", ["/livez", "/metrics", "/docs", "/docs/oauth2-redirect"])
    async def test_answer_without_credentials(self, gateway: httpx.AsyncClient, path: str) -> None:
        response = await gateway.get(path)

        assert response.status_code == 200

    async def test_redoc_is_not_served(
        self, gateway: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        response = await gateway.get("/redoc", headers=admin)

        assert response.status_code == 404


class TestScopesOnOwnRoutes:
    async def test_api_keys_need_admin_scope(
        self, gateway: httpx.AsyncClient, settings: Settings, create_key: Any
    ) -> None:
        key = await create_key(gateway, ["partners:read", "partners:write"])

        by_key = await gateway.get("/api/v1/api-keys", headers=key["headers"])
        by_jwt = await gateway.post(
            "/api/v1/api-keys",
            json={"name": "x", "scopes": ["admin"]},
            headers=bearer(settings, ["kpis:write"]),
        )

        assert by_key.status_code == 403
        assert by_jwt.status_code == 403
        assert by_key.headers["content-type"] == "application/problem+json"

    async def test_a_jwt_with_admin_scope_manages_keys(
        self, gateway: httpx.AsyncClient, settings: Settings
    ) -> None:
        response = await gateway.get("/api/v1/api-keys", headers=bearer(settings, ["admin"]))

        assert response.status_code == 200
