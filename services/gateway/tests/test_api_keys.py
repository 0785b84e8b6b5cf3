"""The API-key admin API: create (secret shown once), list, get, revoke, bootstrap."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from channel_common import create_engine
from channel_common.testing import app_client
from gateway.app import create_app
from gateway.settings import Settings
from sqlalchemy import text

from_db = "SELECT name, key_hash, prefix, scopes, revoked_at FROM api_keys"


async def stored_rows(database_url: str) -> list[Any]:
    """What the api_keys table holds."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(from_db))).all())
    finally:
        await engine.dispose()


class TestCreateApiKey:
    async def test_answers_201_with_the_secret_once_and_stores_only_its_hash(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], database_url: str
    ) -> None:
        body = {"name": "erp", "scopes": ["kpis:write", "partners:read", "kpis:write"]}

        response = await gateway.post("/api/v1/api-keys", json=body, headers=admin)

        assert response.status_code == 201
        created = response.json()
        assert created["key"].startswith("csk_")
        assert len(created["key"]) > 40
        assert created["scopes"] == ["kpis:write", "partners:read"]
        assert created["partner_id"] is None
        assert created["revoked_at"] is None
        assert response.headers["location"] == f"/api/v1/api-keys/{created['id']}"
        row = next(r for r in await stored_rows(database_url) if r.name == "erp")
        assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
        assert created["key"].startswith(row.prefix)
        assert created["prefix"] == row.prefix
        assert created["key"] not in str(tuple(row))

    async def test_listing_and_reading_never_show_the_secret(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        key = await create_key(gateway, ["alerts:read"])

        listed = await gateway.get("/api/v1/api-keys", headers=admin)
        one = await gateway.get(f"/api/v1/api-keys/{key['id']}", headers=admin)

        assert key["key"] not in listed.text
        assert "key" not in one.json()
        assert one.json()["scopes"] == ["alerts:read"]

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "x", "scopes": ["partners:delete"]},
            {"name": "x", "scopes": []},
            {"name": "", "scopes": ["admin"]},
            {"name": "x", "scopes": ["admin"], "key_hash": "mine"},
            {"name": "x", "scopes": ["admin"], "partner_id": "not-a-uuid"},
            {"scopes": ["admin"]},
        ],
        ids=["unknown scope", "no scope", "empty name", "extra field", "bad partner", "no name"],
    )
    async def test_refuses_invalid_bodies_with_422(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
    ) -> None:
        response = await gateway.post("/api/v1/api-keys", json=body, headers=admin)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"]

    async def test_refuses_a_body_that_is_not_json(
        self, gateway: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        response = await gateway.post(
            "/api/v1/api-keys", content=b"name=x", headers={**admin, "content-type": "text/plain"}
        )

        assert response.status_code == 415


class TestIdempotentCreate:
    async def test_replay_returns_the_same_key_and_creates_one(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], database_url: str
    ) -> None:
        headers = {**admin, "Idempotency-Key": "create-erp-key-1"}
        body = {"name": "once", "scopes": ["kpis:write"]}

        first = await gateway.post("/api/v1/api-keys", json=body, headers=headers)
        again = await gateway.post("/api/v1/api-keys", json=body, headers=headers)

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert [r.name for r in await stored_rows(database_url)].count("once") == 1

    async def test_the_same_key_with_another_body_is_refused(
        self, gateway: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        headers = {**admin, "Idempotency-Key": "create-erp-key-2"}
        await gateway.post(
            "/api/v1/api-keys", json={"name": "a", "scopes": ["admin"]}, headers=headers
        )

        other = await gateway.post(
            "/api/v1/api-keys", json={"name": "b", "scopes": ["admin"]}, headers=headers
        )

        assert other.status_code == 422


class TestListApiKeys:
    async def test_pages_oldest_first_with_a_cursor(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        made = [(await create_key(gateway, ["kpis:read"]))["id"] for _ in range(3)]

        first = (await gateway.get("/api/v1/api-keys?limit=2", headers=admin)).json()
        rest = (
            await gateway.get(
                f"/api/v1/api-keys?limit=2&cursor={first['next_cursor']}", headers=admin
            )
        ).json()

        ids = [item["id"] for item in first["items"] + rest["items"]]
        assert len(ids) == 4
        assert len(set(ids)) == 4
        assert ids[1:] == made
        assert rest["next_cursor"] is None

    @pytest.mark.parametrize("query", ["limit=0", "limit=501", "cursor=%21%21", "cursor=WzEsMl0"])
    async def test_refuses_bad_paging_with_422(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], query: str
    ) -> None:
        response = await gateway.get(f"/api/v1/api-keys?{query}", headers=admin)

        assert response.status_code == 422


class TestRevokeApiKey:
    async def test_marks_the_key_revoked_and_is_idempotent(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        key = await create_key(gateway, ["kpis:read"])

        first = await gateway.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
        read = (await gateway.get(f"/api/v1/api-keys/{key['id']}", headers=admin)).json()
        again = await gateway.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)

        assert first.status_code == again.status_code == 204
        assert read["revoked_at"] is not None

    @pytest.mark.parametrize("method", ["GET", "DELETE"])
    async def test_unknown_key_is_404(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], method: str
    ) -> None:
        response = await gateway.request(method, f"/api/v1/api-keys/{uuid.uuid4()}", headers=admin)

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


class TestApiKeyEtag:
    async def test_reads_carry_a_stable_strong_etag_that_create_already_gave(
        self, gateway: httpx.AsyncClient, admin: dict[str, str]
    ) -> None:
        body = {"name": "tagged", "scopes": ["kpis:read"]}
        created = await gateway.post("/api/v1/api-keys", json=body, headers=admin)
        url = f"/api/v1/api-keys/{created.json()['id']}"

        first = await gateway.get(url, headers=admin)
        second = await gateway.get(url, headers=admin)

        etag = first.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
        assert second.headers["etag"] == etag
        assert created.headers["etag"] == etag

    async def test_the_etag_never_carries_the_secret(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        key = await create_key(gateway, ["kpis:read"])

        one = await gateway.get(f"/api/v1/api-keys/{key['id']}", headers=admin)

        assert key["key"] not in one.headers["etag"]
        assert key["key"].removeprefix("csk_") not in str(one.headers)

    async def test_keys_have_etags_of_their_own(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        keys = [await create_key(gateway, ["kpis:read"]) for _ in range(2)]

        tags = {
            (await gateway.get(f"/api/v1/api-keys/{k['id']}", headers=admin)).headers["etag"]
            for k in keys
        }

        assert len(tags) == 2

    async def test_revoking_changes_the_etag_and_answers_the_new_one(
        self, gateway: httpx.AsyncClient, admin: dict[str, str], create_key: Any
    ) -> None:
        key = await create_key(gateway, ["kpis:read"])
        url = f"/api/v1/api-keys/{key['id']}"
        before = (await gateway.get(url, headers=admin)).headers["etag"]

        revoked = await gateway.delete(url, headers=admin)
        after = await gateway.get(url, headers=admin)
        again = await gateway.delete(url, headers=admin)

        assert revoked.status_code == 204
        assert after.json()["revoked_at"] is not None
        assert after.headers["etag"] != before
        assert revoked.headers["etag"] == after.headers["etag"]
        assert again.headers["etag"] == after.headers["etag"]


class TestBootstrapKey:
    async def test_is_an_admin_key_created_once(
        self, make_settings: Callable[..., Settings], admin: dict[str, str], database_url: str
    ) -> None:
        settings = make_settings()
        async with app_client(create_app(settings)) as client:
            listed = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"]
        async with app_client(create_app(settings)):
            pass

        assert [(k["name"], k["scopes"]) for k in listed] == [("bootstrap", ["admin"])]
        assert len(await stored_rows(database_url)) == 1

    async def test_a_revoked_bootstrap_key_stays_revoked_after_restart(
        self, make_settings: Callable[..., Settings], admin: dict[str, str]
    ) -> None:
        settings = make_settings()
        async with app_client(create_app(settings)) as client:
            key_id = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"][0]["id"]
            await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)
        async with app_client(create_app(settings)) as client:
            response = await client.get("/api/v1/api-keys", headers=admin)

        assert response.status_code == 401

    async def test_without_a_configured_key_there_is_none(
        self, make_settings: Callable[..., Settings], database_url: str
    ) -> None:
        async with app_client(create_app(make_settings(bootstrap_admin_key=None))):
            pass

        assert await stored_rows(database_url) == []

    def test_a_configured_key_must_look_like_an_api_key(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        with pytest.raises(ValueError, match="csk_"):
            make_settings(bootstrap_admin_key="admin")
