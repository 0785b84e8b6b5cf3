"""Territories: replacing a partner's list, exclusivity, and finding a region's holder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api


def exclusive(*regions: str) -> list[dict[str, object]]:
    return [{"region": region, "exclusive": True} for region in regions]


class TestReplaceTerritories:
    async def test_replaces_the_list(self, api: Api) -> None:
        partner = await api.create()
        first = await api.put_territories(
            partner["id"], [{"region": "cn-gd"}, {"region": "CN-BJ", "exclusive": True}]
        )
        assert first.status_code == 200, first.text
        assert first.json()["territories"] == [
            {"region": "CN-BJ", "exclusive": True},
            {"region": "CN-GD", "exclusive": False},
        ]
        assert first.json()["version"] == 2 and first.headers["etag"] == '"2"'
        second = await api.put_territories(
            partner["id"], {"territories": exclusive("CN-SH"), "reason": "re-zoning"}
        )
        assert second.json()["territories"] == exclusive("CN-SH")
        assert (await api.get(partner["id"])).json()["territories"] == exclusive("CN-SH")

    async def test_the_same_list_again_changes_nothing(self, api: Api) -> None:
        partner = await api.create()
        await api.put_territories(partner["id"], exclusive("CN-GD"))
        again = await api.put_territories(partner["id"], exclusive("CN-GD"))
        assert again.json()["version"] == 2

    async def test_an_empty_list_clears_them(self, api: Api) -> None:
        partner = await api.create()
        await api.put_territories(partner["id"], exclusive("CN-GD"))
        assert (await api.put_territories(partner["id"], [])).json()["territories"] == []

    @pytest.mark.parametrize(
        "body",
        [
            [{"region": "CN-GD"}, {"region": "cn-gd"}],
            [{"region": "CN GD"}],
            [{"region": "CN", "exclusive": "sometimes"}],
            [{"region": "CN", "owner": "me"}],
            {"territories": [], "extra": 1},
        ],
    )
    async def test_refuses_invalid_lists(self, api: Api, body: object) -> None:
        partner = await api.create()
        api.problem(await api.put_territories(partner["id"], body), 422)

    async def test_refuses_a_terminated_partner(self, api: Api) -> None:
        partner = await api.create()
        await api.move(partner["id"], "terminated")
        api.problem(await api.put_territories(partner["id"], exclusive("CN")), 409)


class TestExclusivity:
    @pytest.mark.parametrize(
        ("held", "wanted"),
        [("CN-GD", "CN-GD"), ("CN-GD", "CN-GD-SZ"), ("CN-GD-SZ", "CN-GD")],
        ids=["same", "inside-holder", "around-holder"],
    )
    async def test_refuses_an_overlap_naming_the_holder(
        self, api: Api, held: str, wanted: str
    ) -> None:
        holder = await api.create(code="HOLDER")
        await api.put_territories(holder["id"], exclusive(held))
        other = await api.create()
        body = api.problem(await api.put_territories(other["id"], exclusive(wanted)), 409)
        assert body["conflicts"] == [
            {
                "region": wanted,
                "held_region": held,
                "holder": {"id": holder["id"], "code": "HOLDER"},
            }
        ]
        assert "HOLDER" in body["detail"] and holder["id"] in body["detail"]
        assert (await api.get(other["id"])).json()["territories"] == []

    async def test_siblings_and_look_alikes_do_not_overlap(self, api: Api) -> None:
        holder = await api.create()
        await api.put_territories(holder["id"], exclusive("CN-GD"))
        other = await api.create()
        response = await api.put_territories(other["id"], exclusive("CN-GDX", "CN-BJ", "US"))
        assert response.status_code == 200, response.text

    async def test_non_exclusive_territories_share(self, api: Api) -> None:
        holder = await api.create()
        await api.put_territories(holder["id"], exclusive("CN-GD"))
        other = await api.create()
        shared = [{"region": "CN-GD", "exclusive": False}, {"region": "CN", "exclusive": False}]
        assert (await api.put_territories(other["id"], shared)).status_code == 200

    async def test_a_terminated_holder_holds_nothing(self, api: Api) -> None:
        holder = await api.create()
        await api.put_territories(holder["id"], exclusive("CN-GD"))
        await api.move(holder["id"], "terminated")
        other = await api.create()
        assert (await api.put_territories(other["id"], exclusive("CN-GD"))).status_code == 200

    async def test_a_suspended_holder_still_holds(self, api: Api) -> None:
        holder = await api.create()
        await api.put_territories(holder["id"], exclusive("CN-GD"))
        await api.move(holder["id"], "onboarding", "active", "suspended")
        other = await api.create()
        api.problem(await api.put_territories(other["id"], exclusive("CN-GD-SZ")), 409)

    async def test_a_partner_may_nest_its_own_territories(self, api: Api) -> None:
        partner = await api.create()
        response = await api.put_territories(partner["id"], exclusive("CN-GD", "CN-GD-SZ"))
        assert response.status_code == 200


class TestTerritoryOwner:
    async def test_finds_the_holder_of_the_region_or_nearest_ancestor(self, api: Api) -> None:
        province = await api.create(code="PROVINCE", name="Province Ltd")
        city = await api.create(code="CITY")
        await api.put_territories(province["id"], exclusive("CN-GD"))
        await api.put_territories(city["id"], exclusive("CN-ZJ-HZ"))
        exact = await api.owner("CN-GD")
        assert exact.json() == {
            "region": "CN-GD",
            "held_region": "CN-GD",
            "partner_id": province["id"],
            "partner_code": "PROVINCE",
            "partner_name": "Province Ltd",
        }
        inside = (await api.owner("cn-gd-sz-ns")).json()
        assert inside["partner_code"] == "PROVINCE" and inside["held_region"] == "CN-GD"
        assert inside["region"] == "CN-GD-SZ-NS"
        assert (await api.owner("CN-ZJ-HZ-XH")).json()["partner_code"] == "CITY"

    async def test_no_exclusive_holder_is_404(self, api: Api) -> None:
        partner = await api.create()
        await api.put_territories(partner["id"], [{"region": "CN-GD", "exclusive": False}])
        await api.put_territories((await api.create())["id"], exclusive("CN-GD-SZ"))
        api.problem(await api.owner("CN-GD"), 404)
        api.problem(await api.owner("CN-GDX"), 404)

    async def test_a_terminated_holder_is_not_the_owner(self, api: Api) -> None:
        partner = await api.create()
        await api.put_territories(partner["id"], exclusive("CN-GD"))
        await api.move(partner["id"], "terminated")
        api.problem(await api.owner("CN-GD"), 404)

    async def test_refuses_a_malformed_region(self, api: Api) -> None:
        api.problem(await api.owner("CN GD"), 422)
        api.problem(await api.request("GET", "/territories/owner"), 422)
