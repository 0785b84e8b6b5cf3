"""The tier ladder: the seeded default, replacing it, and what may not be removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Api


def ladder(*keys: str) -> list[dict[str, Any]]:
    """A ladder of `keys`, highest first, with growing admission criteria."""
    return [
        {
            "key": key,
            "name": key.title(),
            "rank": rank,
            "admission": {
                "min_registered_capital": str(1000 * (len(keys) - rank)),
                "min_years_in_business": len(keys) - rank,
                "min_service_staff": 0,
            },
        }
        for rank, key in enumerate(keys, start=1)
    ]


class TestDefaultLadder:
    async def test_is_platinum_gold_silver_registered(self, api: Api) -> None:
        response = await api.request("GET", "/tiers")
        assert response.status_code == 200
        tiers = response.json()
        assert [(t["key"], t["rank"]) for t in tiers] == [
            ("platinum", 1),
            ("gold", 2),
            ("silver", 3),
            ("registered", 4),
        ]
        assert tiers[0]["admission"] == {
            "min_registered_capital": "50000000.00",
            "min_years_in_business": 10,
            "min_service_staff": 50,
        }
        assert tiers[-1]["admission"]["min_registered_capital"] == "0.00"
        assert response.headers["etag"].startswith('"')


class TestReplaceLadder:
    async def test_replaces_adds_and_reorders(self, api: Api) -> None:
        new = ladder("diamond", "platinum", "gold", "silver", "registered")
        response = await api.request("PUT", "/tiers", json=new)
        assert response.status_code == 200, response.text
        assert [t["key"] for t in response.json()] == [t["key"] for t in new]
        assert (await api.request("GET", "/tiers")).json() == response.json()
        assert (await api.create(tier="diamond"))["tier"] == "diamond"

    async def test_removes_a_tier_nobody_holds(self, api: Api) -> None:
        response = await api.request("PUT", "/tiers", json=ladder("gold", "registered"))
        assert [t["key"] for t in response.json()] == ["gold", "registered"]

    async def test_refuses_to_remove_a_held_tier(self, api: Api) -> None:
        await api.create(tier="silver")
        terminated = await api.create(tier="platinum")
        await api.move(terminated["id"], "terminated")
        response = await api.request("PUT", "/tiers", json=ladder("gold", "registered"))
        body = api.problem(response, 409)
        assert body["held"] == [
            {"tier": "platinum", "partners": 1},
            {"tier": "silver", "partners": 1},
        ]
        assert len((await api.request("GET", "/tiers")).json()) == 4

    async def test_new_partners_default_to_the_new_lowest_tier(self, api: Api) -> None:
        await api.request("PUT", "/tiers", json=ladder("registered", "basic"))
        assert (await api.create())["tier"] == "basic"

    async def test_refuses_duplicate_keys_ranks_or_an_empty_ladder(self, api: Api) -> None:
        twice = ladder("gold", "registered")
        twice[1]["key"] = "gold"
        same_rank = ladder("gold", "registered")
        same_rank[1]["rank"] = 1
        for body in (twice, same_rank, [], {"key": "gold"}):
            api.problem(await api.request("PUT", "/tiers", json=body), 422)

    async def test_refuses_a_changed_admission_rule_shape(self, api: Api) -> None:
        body = ladder("gold", "registered")
        body[0]["admission"]["min_turnover"] = 5
        api.problem(await api.request("PUT", "/tiers", json=body), 422)

    async def test_honours_if_match(self, api: Api) -> None:
        etag = (await api.request("GET", "/tiers")).headers["etag"]
        first = await api.request(
            "PUT", "/tiers", json=ladder("gold", "registered"), headers={"If-Match": etag}
        )
        assert first.status_code == 200 and first.headers["etag"] != etag
        stale = await api.request(
            "PUT", "/tiers", json=ladder("silver", "registered"), headers={"If-Match": etag}
        )
        api.problem(stale, 412)
