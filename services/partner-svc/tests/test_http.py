"""The HTTP conventions on partner-svc: problem+json, If-Match, Idempotency-Key, pagination
and the OpenAPI document."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from channel_common import Principal, SQLModelSession
from partner_svc import service
from partner_svc.app import create_app
from partner_svc.schemas import PartnerCreate
from partner_svc.settings import Settings
from sqlalchemy.ext.asyncio import async_sessionmaker

if TYPE_CHECKING:
    from conftest import Api


class TestProblems:
    async def test_malformed_json_is_400(self, api: Api) -> None:
        response = await api.request(
            "POST",
            "/partners",
            content=b'{"code": ',
            headers={"content-type": "application/json"},
        )
        api.problem(response, 400)

    async def test_wrong_content_type_is_415(self, api: Api) -> None:
        response = await api.request(
            "POST", "/partners", content=b"code=x", headers={"content-type": "text/plain"}
        )
        api.problem(response, 415)

    async def test_validation_failure_is_422_with_errors(self, api: Api) -> None:
        body = api.problem(await api.post_partner(type="wholesaler"), 422)
        assert body["errors"][0]["loc"] == ["body", "type"]

    async def test_unknown_route_is_404(self, api: Api) -> None:
        api.problem(await api.request("GET", "/partnerz"), 404)


class TestMetrics:
    async def test_counts_changes_by_action(self, api: Api) -> None:
        partner = await api.create()
        await api.transition(partner["id"], "onboarding")
        text = (await api.client.get("/metrics")).text
        assert 'partner_changes_total{action="created"}' in text
        assert 'partner_changes_total{action="transitioned"}' in text
        assert partner["id"] not in text


class TestIfMatch:
    async def test_stale_if_match_is_412_everywhere(self, api: Api) -> None:
        partner = await api.create()
        pid = partner["id"]
        stale = {"If-Match": '"1"'}
        fresh = await api.patch(pid, {"name": "New"}, headers=stale)
        assert fresh.status_code == 200 and fresh.headers["etag"] == '"2"'
        api.problem(await api.patch(pid, {"name": "Newer"}, headers=stale), 412)
        api.problem(await api.transition(pid, "onboarding", headers=stale), 412)
        api.problem(await api.set_tier(pid, "gold", headers=stale), 412)
        api.problem(await api.put_territories(pid, [], headers=stale), 412)
        after = await api.get(pid)
        assert after.json()["name"] == "New" and after.json()["version"] == 2

    async def test_current_or_wildcard_etag_passes(self, api: Api) -> None:
        partner = await api.create()
        pid = partner["id"]
        etag = (await api.get(pid)).headers["etag"]
        moved = await api.transition(pid, "onboarding", headers={"If-Match": etag})
        assert moved.status_code == 200
        tiered = await api.set_tier(pid, "gold", headers={"If-Match": moved.headers["etag"]})
        assert tiered.status_code == 200
        response = await api.put_territories(pid, [], headers={"If-Match": "*"})
        assert response.status_code == 200


class TestIdempotency:
    async def test_a_replayed_registration_creates_nothing_new(self, api: Api) -> None:
        headers = {"Idempotency-Key": "register-acme"}
        body = {"code": "IDEM", "name": "Acme", "type": "agent", "region": "CN"}
        first = await api.request("POST", "/partners", json=body, headers=headers)
        second = await api.request("POST", "/partners", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["etag"] == first.headers["etag"]
        assert await api.codes() == ["IDEM"]
        other = await api.request("POST", "/partners", json={**body, "name": "B"}, headers=headers)
        api.problem(other, 422)

    async def test_a_replayed_transition_moves_once(self, api: Api) -> None:
        partner = await api.create()
        headers = {"Idempotency-Key": "move-1"}
        first = await api.transition(partner["id"], "onboarding", headers=headers)
        second = await api.transition(partner["id"], "onboarding", headers=headers)
        assert second.json() == first.json() and second.json()["version"] == 2
        assert second.headers["idempotent-replayed"] == "true"


class TestPagination:
    async def test_walks_1000_partners_without_missing_or_repeating_one(
        self, api: Api, sessions: async_sessionmaker[SQLModelSession]
    ) -> None:
        actor = Principal(subject="seed", scopes=frozenset({"partners:write"}))
        regions = ["CN-GD", "CN-GD-SZ", "CN-BJ", "US"]
        async with sessions() as session:
            for i in range(1000):
                data = PartnerCreate(
                    code=f"PG-{(i * 7919) % 1000:04d}",  # created out of code order
                    name=f"Partner {i}",
                    type="reseller",
                    region=regions[i % 4],
                    tier="registered",
                )
                await service.create_partner(session, data=data, actor=actor)
            await session.commit()

        async def walk(limit: int, **filters: Any) -> list[str]:
            codes: list[str] = []
            cursor = None
            while True:
                params = {"limit": limit, **filters, **({"cursor": cursor} if cursor else {})}
                response = await api.request("GET", "/partners", params=params)
                assert response.status_code == 200, response.text
                page = response.json()
                assert len(page["items"]) <= limit
                codes += [item["code"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    return codes

        started = time.monotonic()
        everything = await walk(37)
        assert everything == [f"PG-{n:04d}" for n in range(1000)]
        assert await walk(500) == everything
        guangdong = await walk(50, region="CN-GD")
        assert len(guangdong) == len(set(guangdong)) == 500
        assert time.monotonic() - started < 20

    @pytest.mark.parametrize("params", [{"limit": 501}, {"limit": 0}, {"cursor": "%%%"}])
    async def test_refuses_bad_limits_and_cursors(self, api: Api, params: dict[str, Any]) -> None:
        api.problem(await api.request("GET", "/partners", params=params), 422)

    async def test_refuses_a_cursor_of_another_list(self, api: Api) -> None:
        from channel_common import encode_cursor

        partner = await api.create()
        bad = {"cursor": encode_cursor(["P1"])}
        url = f"/partners/{partner['id']}/history"
        api.problem(await api.request("GET", url, params=bad), 422)
        api.problem(
            await api.request("GET", "/partners", params={"cursor": encode_cursor([3])}), 422
        )


class TestOpenApi:
    def test_every_operation_is_documented(self, settings: Settings) -> None:
        document = create_app(settings).openapi()
        operations = [
            (path, method, op)
            for path, item in document["paths"].items()
            for method, op in item.items()
            if path.startswith("/api/v1")
        ]
        assert len(operations) == 15
        for path, method, op in operations:
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            assert op.get("tags"), where
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert ok and "schema" in op["responses"][ok[0]]["content"]["application/json"], where
            for status in ("401", "403"):
                assert status in op["responses"], where
        transitions = document["paths"]["/api/v1/partners/{partner_id}/transitions"]["post"]
        assert {"404", "409", "412", "422"} <= set(transitions["responses"])
        schemas = document["components"]["schemas"]
        capital = schemas["Qualification-Output"]["properties"]["registered_capital"]
        assert {"type": "string"} in capital["anyOf"]
