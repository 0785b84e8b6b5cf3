"""The HTTP conventions every service inherits: problem+json errors, auth, idempotency,
optimistic concurrency, pagination and metrics."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from channel_common.testing import TEST_JWT_KEY, app_client, assert_problem, bearer
from pydantic import SecretStr

from .widgets import WidgetSettings, create_widgets_app

WRITE = ["partners:read", "partners:write"]
PROBLEM = "application/problem+json"


class TestErrors:
    async def test_malformed_json_is_400(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets",
                content=b'{"name": ',
                headers={**bearer(settings, WRITE), "content-type": "application/json"},
            )
        assert_problem(response, 400)

    async def test_unknown_field_is_422_with_errors(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets", json={"name": "a", "id": "x"}, headers=bearer(settings, WRITE)
            )
        body = assert_problem(response, 422)
        assert any(e["loc"][-1] == "id" for e in body["errors"])

    async def test_oversized_body_is_413(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets", json={"name": "x" * 20_000}, headers=bearer(settings, WRITE)
            )
        assert_problem(response, 413)

    async def test_oversized_streamed_body_without_length_is_413(
        self, settings: WidgetSettings
    ) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b" " * 1000

        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets",
                content=chunks(),
                headers={**bearer(settings, WRITE), "content-type": "application/json"},
            )
        assert_problem(response, 413)

    async def test_wrong_content_type_is_415(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets",
                content=b"name=a",
                headers={**bearer(settings, WRITE), "content-type": "text/plain"},
            )
        assert_problem(response, 415)

    async def test_unknown_route_and_wrong_method(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            assert_problem(await client.get("/api/v1/nothing"), 404)
            assert_problem(await client.put("/api/v1/widgets", json={}), 405)

    async def test_openapi_documents_errors_as_problems(self, settings: WidgetSettings) -> None:
        document = create_widgets_app(settings).openapi()
        post = document["paths"]["/api/v1/widgets"]["post"]
        assert set(post["responses"]) >= {"201", "400", "401", "403", "409", "413", "415", "422"}
        assert PROBLEM in post["responses"]["422"]["content"]
        assert "HTTPValidationError" not in document["components"]["schemas"]


class TestAuth:
    def token(self, settings: WidgetSettings, **overrides: object) -> dict[str, str]:
        claims = {
            "sub": "u",
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "exp": int(time.time()) + 60,
            "scope": "partners:read",
        }
        claims.update(overrides)
        key = str(overrides.pop("_key", TEST_JWT_KEY))
        claims.pop("_key", None)
        return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="HS256")}

    @pytest.mark.parametrize(
        "case",
        ["missing", "bad_signature", "expired", "wrong_audience", "wrong_issuer", "alg_none"],
    )
    async def test_bad_credentials_are_401(self, settings: WidgetSettings, case: str) -> None:
        headers = {
            "missing": {},
            "bad_signature": self.token(settings, _key="another-key-0123456789abcdef01234567"),
            "expired": self.token(settings, exp=int(time.time()) - 60),
            "wrong_audience": self.token(settings, aud="someone-else"),
            "wrong_issuer": self.token(settings, iss="someone-else"),
            "alg_none": {
                "Authorization": "Bearer "
                + jwt.encode(
                    {
                        "sub": "u",
                        "iss": settings.jwt_issuer,
                        "aud": settings.jwt_audience,
                        "exp": int(time.time()) + 60,
                        "scope": "admin",
                    },
                    None,
                    algorithm="none",
                )
            },
        }[case]
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.get("/api/v1/widgets", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_the_previous_key_is_accepted_during_a_rotation(
        self, settings: WidgetSettings
    ) -> None:
        old, other = "old-key-0123456789abcdef0123456789ab", "other-key-0123456789abcdef012345678"
        rotating = settings.model_copy(update={"jwt_previous_key": SecretStr(old)})
        async with app_client(create_widgets_app(rotating)) as client:
            current = await client.get("/api/v1/widgets", headers=self.token(settings))
            previous = await client.get("/api/v1/widgets", headers=self.token(settings, _key=old))
            unknown = await client.get("/api/v1/widgets", headers=self.token(settings, _key=other))
            expired = await client.get(
                "/api/v1/widgets",
                headers=self.token(settings, _key=old, exp=int(time.time()) - 60),
            )
        assert (current.status_code, previous.status_code) == (200, 200)
        assert_problem(unknown, 401)
        assert "expired" in assert_problem(expired, 401)["detail"]
        async with app_client(create_widgets_app(settings)) as client:
            after = await client.get("/api/v1/widgets", headers=self.token(settings, _key=old))
        assert_problem(after, 401)

    async def test_missing_scope_is_403(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets", json={"name": "a"}, headers=bearer(settings, ["partners:read"])
            )
        assert_problem(response, 403)

    async def test_admin_holds_every_scope(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.post(
                "/api/v1/widgets", json={"name": "a"}, headers=bearer(settings, ["admin"])
            )
        assert response.status_code == 201


class TestIdempotency:
    async def test_replay_returns_the_stored_answer(self, settings: WidgetSettings) -> None:
        headers = {**bearer(settings, WRITE), "Idempotency-Key": "k-1"}
        async with app_client(create_widgets_app(settings)) as client:
            first = await client.post("/api/v1/widgets", json={"name": "a"}, headers=headers)
            second = await client.post("/api/v1/widgets", json={"name": "a"}, headers=headers)
            listed = await client.get("/api/v1/widgets", headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(listed.json()["items"]) == 1

    async def test_same_key_other_body_is_422(self, settings: WidgetSettings) -> None:
        headers = {**bearer(settings, WRITE), "Idempotency-Key": "k-2"}
        async with app_client(create_widgets_app(settings)) as client:
            await client.post("/api/v1/widgets", json={"name": "a"}, headers=headers)
            response = await client.post("/api/v1/widgets", json={"name": "b"}, headers=headers)
        assert_problem(response, 422)

    async def test_keys_are_scoped_per_principal(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            one = await client.post(
                "/api/v1/widgets",
                json={"name": "a"},
                headers={**bearer(settings, WRITE, subject="one"), "Idempotency-Key": "k"},
            )
            two = await client.post(
                "/api/v1/widgets",
                json={"name": "a"},
                headers={**bearer(settings, WRITE, subject="two"), "Idempotency-Key": "k"},
            )
        assert one.status_code == 201
        assert_problem(two, 409)  # not a replay: a second create of the same name

    async def test_failed_request_frees_the_key(self, settings: WidgetSettings) -> None:
        headers = {**bearer(settings, WRITE), "Idempotency-Key": "k-3"}
        async with app_client(create_widgets_app(settings)) as client:
            await client.post(
                "/api/v1/widgets", json={"name": "taken"}, headers=bearer(settings, WRITE)
            )
            failed = await client.post("/api/v1/widgets", json={"name": "taken"}, headers=headers)
            retried = await client.post("/api/v1/widgets", json={"name": "taken"}, headers=headers)
        assert_problem(failed, 409)
        assert_problem(retried, 409)
        assert "idempotent-replayed" not in retried.headers

    async def test_concurrent_duplicates_apply_once(self, settings: WidgetSettings) -> None:
        headers = {**bearer(settings, WRITE), "Idempotency-Key": "k-4"}
        async with app_client(create_widgets_app(settings)) as client:
            responses = await asyncio.gather(
                *[
                    client.post("/api/v1/widgets", json={"name": "same"}, headers=headers)
                    for _ in range(10)
                ]
            )
            listed = await client.get("/api/v1/widgets", headers=headers)
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}
        created = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(created) == 1
        assert len(listed.json()["items"]) == 1


class TestConcurrency:
    async def test_stale_if_match_is_412(self, settings: WidgetSettings) -> None:
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            created = (
                await client.post("/api/v1/widgets", json={"name": "a"}, headers=headers)
            ).json()
            url = f"/api/v1/widgets/{created['id']}"
            etag = (await client.get(url, headers=headers)).headers["etag"]
            ok = await client.patch(url, json={"name": "b"}, headers={**headers, "If-Match": etag})
            stale = await client.patch(
                url, json={"name": "c"}, headers={**headers, "If-Match": etag}
            )
            final = await client.get(url, headers=headers)
        assert ok.status_code == 200 and ok.headers["etag"] != etag
        assert_problem(stale, 412)
        assert final.json()["name"] == "b"


class TestPagination:
    async def test_walks_every_row_once(self, settings: WidgetSettings) -> None:
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            for i in range(25):
                await client.post("/api/v1/widgets", json={"name": f"w{i:02d}"}, headers=headers)
            seen: list[str] = []
            cursor = None
            while True:
                params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
                page = (await client.get("/api/v1/widgets", params=params, headers=headers)).json()
                seen += [item["name"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        assert seen == [f"w{i:02d}" for i in range(25)]

    async def test_bad_limit_and_cursor_are_422(self, settings: WidgetSettings) -> None:
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            assert_problem(await client.get("/api/v1/widgets?limit=501", headers=headers), 422)
            assert_problem(await client.get("/api/v1/widgets?cursor=%%%", headers=headers), 422)


class TestObservability:
    async def test_metrics_label_by_route_template(self, settings: WidgetSettings) -> None:
        headers = bearer(settings, WRITE)
        async with app_client(create_widgets_app(settings)) as client:
            await client.get(
                "/api/v1/widgets/7d7f1a9c-2a40-4a9e-9a76-1f1c4b7a1e11", headers=headers
            )
            text = (await client.get("/metrics")).text
        assert 'route="/api/v1/widgets/{widget_id}"' in text
        assert "7d7f1a9c" not in text

    async def test_request_id_is_returned(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            response = await client.get("/livez", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    async def test_only_the_listed_documents_are_served(self, settings: WidgetSettings) -> None:
        async with app_client(create_widgets_app(settings)) as client:
            docs, openapi = await client.get("/docs"), await client.get("/openapi.json")
            redoc = await client.get("/redoc")
        assert (docs.status_code, openapi.status_code) == (200, 200)
        assert redoc.status_code == 404
