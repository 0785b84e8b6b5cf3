"""Alert rules over HTTP: create, validate, read, patch with If-Match, delete."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api


class TestCreateRule:
    async def test_defaults_to_monthly_and_one_period(self, api: Api) -> None:
        rule = await api.create_rule()
        assert rule["granularity"] == "month" and rule["for_periods"] == 1
        assert rule["condition"] == {"type": "threshold", "op": "lt", "value": "1000"}
        assert rule["scope"] == {"partner_ids": [], "tiers": [], "regions": []}
        assert rule["enabled"] is True and rule["version"] == 1

    @pytest.mark.parametrize(
        "condition",
        [
            {"type": "change", "compare_to": "year_ago", "op": "lt", "pct": "-0.3"},
            {"type": "absence", "days": 7},
            {"type": "anomaly", "lookback": 6, "zscore": 3},
            {"type": "out_of_territory"},
        ],
    )
    async def test_accepts_every_condition_type(self, api: Api, condition: dict[str, Any]) -> None:
        rule = await api.create_rule(condition=condition)
        assert rule["condition"]["type"] == condition["type"]

    async def test_keeps_decimals_exact(self, api: Api) -> None:
        rule = await api.create_rule(condition={"type": "threshold", "op": "gte", "value": 0.1})
        assert rule["condition"]["value"] == "0.1"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"condition": {"type": "nope"}}, "condition"),
            ({"condition": {"type": "threshold", "op": "eq", "value": 1}}, "op"),
            ({"condition": {"type": "anomaly", "lookback": 1, "zscore": 2}}, "lookback"),
            ({"condition": {"type": "absence", "days": 3}, "for_periods": 2}, "for_periods"),
            ({"for_periods": 0}, "for_periods"),
            ({"granularity": "week"}, "granularity"),
            ({"severity": "page"}, "severity"),
            ({"extra": 1}, "extra"),
            ({"kpi": "Sales"}, "kpi"),
        ],
    )
    async def test_refuses_invalid_combinations_naming_the_field(
        self, api: Api, body: dict[str, Any], field: str
    ) -> None:
        base = {"name": "r", "kpi": "sales_amount", "condition": {"type": "out_of_territory"}}
        response = await api.request("POST", "/alert-rules", json={**base, **body})
        problem = api.problem(response, 422)
        assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"]), problem

    async def test_needs_alerts_write(self, api: Api) -> None:
        reader = api.as_principal(("alerts:read",))
        body = {"name": "r", "kpi": "k", "condition": {"type": "out_of_territory"}}
        api.problem(await reader.request("POST", "/alert-rules", json=body), 403)
        api.problem(await api.client.get("/api/v1/alert-rules"), 401)


class TestChangeRule:
    async def test_patch_honours_if_match(self, api: Api) -> None:
        rule = await api.create_rule()
        got = await api.request("GET", f"/alert-rules/{rule['id']}")
        etag = got.headers["ETag"]
        ok = await api.request(
            "PATCH",
            f"/alert-rules/{rule['id']}",
            json={"severity": "critical"},
            headers={"If-Match": etag},
        )
        assert ok.status_code == 200 and ok.json()["severity"] == "critical"
        assert ok.headers["ETag"] != etag
        stale = await api.request(
            "PATCH",
            f"/alert-rules/{rule['id']}",
            json={"enabled": False},
            headers={"If-Match": etag},
        )
        api.problem(stale, 412)

    async def test_two_writers_with_one_etag_one_wins_one_gets_412(self, api: Api) -> None:
        # Found by the battery (H3) on PostgreSQL: both PATCHes passed the If-Match check and
        # both answered 200 (a lost update); the rule row is now locked before the check.
        rule = await api.create_rule()
        for race in range(10):
            etag = (await api.request("GET", f"/alert-rules/{rule['id']}")).headers["ETag"]
            answers = await asyncio.gather(
                *(
                    api.request("PATCH", f"/alert-rules/{rule['id']}", headers={"If-Match": etag},
                                json={"name": f"contender {race}-{n}"})
                    for n in range(2)
                )
            )  # fmt: skip
            assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]

    async def test_patch_checks_the_merged_rule(self, api: Api) -> None:
        rule = await api.create_rule(for_periods=3)
        response = await api.request(
            "PATCH",
            f"/alert-rules/{rule['id']}",
            json={"condition": {"type": "absence", "days": 2}},
        )
        problem = api.problem(response, 422)
        assert problem["errors"][0]["loc"] == ["body", "for_periods"]

    async def test_delete_then_404(self, api: Api) -> None:
        rule = await api.create_rule()
        assert (await api.request("DELETE", f"/alert-rules/{rule['id']}")).status_code == 204
        api.problem(await api.request("GET", f"/alert-rules/{rule['id']}"), 404)

    async def test_lists_in_pages(self, api: Api) -> None:
        ids = [(await api.create_rule(name=f"r{n}"))["id"] for n in range(3)]
        first = (await api.request("GET", "/alert-rules", params={"limit": 2})).json()
        second = await api.request(
            "GET", "/alert-rules", params={"limit": 2, "cursor": first["next_cursor"]}
        )
        seen = [r["id"] for r in first["items"] + second.json()["items"]]
        assert seen == ids and second.json()["next_cursor"] is None


class TestHttpConventions:
    async def test_a_replayed_idempotency_key_returns_the_same_rule(self, api: Api) -> None:
        body = {"name": "r", "kpi": "sales_amount", "condition": {"type": "out_of_territory"}}
        key = {"Idempotency-Key": "rule-1"}
        first = await api.request("POST", "/alert-rules", json=body, headers=key)
        again = await api.request("POST", "/alert-rules", json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"

    async def test_every_route_is_documented(self, api: Api) -> None:
        document = (await api.client.get("/openapi.json")).json()
        operations = [op for path in document["paths"].values() for op in path.values()]
        assert len(operations) == 17
        assert all(op.get("summary") and op.get("tags") for op in operations)
        # Every Location a POST answers with can be read back.
        for created in ("/api/v1/silences/{silence_id}", "/api/v1/webhooks/{webhook_id}"):
            assert {"get", "delete"} <= document["paths"][created].keys()
