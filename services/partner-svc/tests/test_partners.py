"""The partner register: create, read, list with filters, patch, hierarchy."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Api


class TestCreatePartner:
    async def test_starts_as_prospect_in_the_lowest_tier(self, api: Api) -> None:
        response = await api.post_partner(
            code="ACME-01",
            name="Acme",
            qualification={"registered_capital": 1234.5, "years_in_business": 3},
            contact={"name": "Li Lei", "email": "li@example.com"},
            attributes={"channel": "b2b"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "prospect"
        assert body["tier"] == "registered"
        assert body["version"] == 1
        assert body["qualification"] == {
            "registered_capital": "1234.50",
            "years_in_business": 3,
            "service_staff": None,
        }
        assert body["contact"] == {"name": "Li Lei", "email": "li@example.com", "phone": None}
        assert body["territories"] == []
        assert body["created_at"].endswith("Z")
        assert response.headers["location"] == f"/api/v1/partners/{body['id']}"
        assert response.headers["etag"] == '"1"'

    async def test_keeps_money_exact_from_a_string(self, api: Api) -> None:
        partner = await api.create(qualification={"registered_capital": "12345678901234.56"})
        assert partner["qualification"]["registered_capital"] == "12345678901234.56"

    async def test_refuses_a_third_decimal_in_money(self, api: Api) -> None:
        response = await api.post_partner(qualification={"registered_capital": "1.005"})
        api.problem(response, 422)

    async def test_takes_a_named_tier(self, api: Api) -> None:
        assert (await api.create(tier="gold"))["tier"] == "gold"

    async def test_refuses_an_unknown_tier(self, api: Api) -> None:
        body = api.problem(await api.post_partner(tier="diamond"), 422)
        assert body["errors"][0]["loc"] == ["body", "tier"]

    async def test_refuses_a_duplicate_code(self, api: Api) -> None:
        first = await api.create(code="DUP")
        body = api.problem(await api.post_partner(code="DUP"), 409)
        assert body["existing_id"] == first["id"]

    @pytest.mark.parametrize("field", ["status", "version", "id", "territories", "nonsense"])
    async def test_refuses_unknown_or_read_only_fields(self, api: Api, field: str) -> None:
        body = api.problem(await api.post_partner(**{field: "x"}), 422)
        assert any(error["loc"][-1] == field for error in body["errors"])

    @pytest.mark.parametrize(
        "overrides",
        [
            {"code": "bad code"},
            {"code": "x" * 65},
            {"type": "wholesaler"},
            {"region": "CN--GD"},
            {"region": "CN_GD"},
            {"name": ""},
            {"contact": {"email": "not-an-email"}},
            {"qualification": {"service_staff": -1}},
            {"attributes": {"k": 1}},
        ],
    )
    async def test_refuses_invalid_values(self, api: Api, overrides: dict[str, object]) -> None:
        api.problem(await api.post_partner(**overrides), 422)

    async def test_stores_regions_upper_case(self, api: Api) -> None:
        assert (await api.create(region="cn-gd-sz"))["region"] == "CN-GD-SZ"

    async def test_refuses_an_unknown_parent(self, api: Api) -> None:
        body = api.problem(await api.post_partner(parent_id=str(uuid.uuid4())), 422)
        assert body["errors"][0]["loc"] == ["body", "parent_id"]

    async def test_refuses_a_terminated_parent(self, api: Api) -> None:
        parent = await api.create()
        await api.move(parent["id"], "terminated")
        api.problem(await api.post_partner(parent_id=parent["id"]), 409)


class TestReadPartner:
    async def test_by_id_and_by_code_with_etag(self, api: Api) -> None:
        created = await api.create(code="READ-ME")
        by_id = await api.get(created["id"])
        by_code = await api.request("GET", "/partners/by-code/READ-ME")
        assert by_id.json() == by_code.json() == created
        assert by_id.headers["etag"] == by_code.headers["etag"] == '"1"'

    async def test_unknown_partner_is_404(self, api: Api) -> None:
        api.problem(await api.get(str(uuid.uuid4())), 404)
        api.problem(await api.request("GET", "/partners/by-code/NOPE"), 404)

    async def test_malformed_id_is_422(self, api: Api) -> None:
        api.problem(await api.get("not-a-uuid"), 422)


class TestListPartners:
    async def test_filters_by_region_prefix_including_sub_regions(self, api: Api) -> None:
        for code, region in [
            ("R1", "CN-GD"),
            ("R2", "CN-GD-SZ"),
            ("R3", "CN-GDX"),
            ("R4", "CN"),
            ("R5", "CN-GD-SZ-NS"),
        ]:
            await api.create(code=code, region=region)
        assert await api.codes(region="CN-GD") == ["R1", "R2", "R5"]
        assert await api.codes(region="cn-gd-sz") == ["R2", "R5"]
        assert await api.codes(region="CN") == ["R1", "R2", "R3", "R4", "R5"]
        assert await api.codes(region="CN-G") == []

    async def test_filters_by_status_tier_type_and_parent(self, api: Api) -> None:
        parent = await api.create(code="F-PARENT", type="distributor", tier="gold")
        child = await api.create(code="F-CHILD", type="agent", parent_id=parent["id"])
        await api.create(code="F-OTHER", type="retailer")
        await api.move(child["id"], "onboarding")
        assert await api.codes(status="onboarding") == ["F-CHILD"]
        assert await api.codes(tier="gold") == ["F-PARENT"]
        assert await api.codes(type="retailer") == ["F-OTHER"]
        assert await api.codes(parent_id=parent["id"]) == ["F-CHILD"]
        assert await api.codes(type="agent", status="prospect") == []

    async def test_searches_name_and_code_case_insensitively(self, api: Api) -> None:
        await api.create(code="SHOP-1", name="Sunrise Electronics")
        await api.create(code="sunset-2", name="Evening Goods")
        await api.create(code="X-3", name="100%_Pure")
        assert await api.codes(q="SUN") == ["SHOP-1", "sunset-2"]
        assert await api.codes(q="electro") == ["SHOP-1"]
        assert await api.codes(q="%_") == ["X-3"]
        assert await api.codes(q="1_0") == []  # `_` and `%` are no wildcards
        assert await api.codes(q="0%P") == []

    async def test_refuses_invalid_filters(self, api: Api) -> None:
        for params in ({"status": "sleeping"}, {"type": "x"}, {"region": "CN GD"}, {"q": ""}):
            api.problem(await api.request("GET", "/partners", params=params), 422)


class TestPatchPartner:
    async def test_changes_master_data_and_bumps_the_version(self, api: Api) -> None:
        partner = await api.create(contact={"name": "A", "email": "a@example.com"})
        response = await api.patch(
            partner["id"],
            {
                "name": "Renamed",
                "region": "CN-BJ",
                "contact": {"phone": "+86 10 1234"},
                "qualification": {"service_staff": 7},
                "attributes": {"segment": "smb"},
                "reason": "annual review",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "Renamed" and body["region"] == "CN-BJ"
        assert body["contact"] == {"name": "A", "email": "a@example.com", "phone": "+86 10 1234"}
        assert body["qualification"]["service_staff"] == 7
        assert body["attributes"] == {"segment": "smb"}
        assert body["version"] == 2
        assert response.headers["etag"] == '"2"'

    async def test_null_clears_nested_values(self, api: Api) -> None:
        partner = await api.create(contact={"name": "A", "email": "a@example.com"})
        body = (await api.patch(partner["id"], {"contact": {"email": None}})).json()
        assert body["contact"] == {"name": "A", "email": None, "phone": None}

    async def test_without_a_change_keeps_the_version(self, api: Api) -> None:
        partner = await api.create(name="Same")
        response = await api.patch(partner["id"], {"name": "Same"})
        assert response.status_code == 200
        assert response.json()["version"] == 1

    @pytest.mark.parametrize("field", ["tier", "status", "code", "version", "territories"])
    async def test_refuses_fields_with_their_own_endpoint(self, api: Api, field: str) -> None:
        partner = await api.create()
        body = api.problem(await api.patch(partner["id"], {field: "gold"}), 422)
        assert body["errors"][0]["loc"][-1] == field

    async def test_refuses_null_for_a_required_field(self, api: Api) -> None:
        partner = await api.create()
        api.problem(await api.patch(partner["id"], {"name": None}), 422)

    async def test_refuses_changes_to_a_terminated_partner(self, api: Api) -> None:
        partner = await api.create()
        await api.move(partner["id"], "terminated")
        api.problem(await api.patch(partner["id"], {"name": "Zombie"}), 409)

    async def test_unknown_partner_is_404(self, api: Api) -> None:
        api.problem(await api.patch(str(uuid.uuid4()), {"name": "x"}), 404)


class TestHierarchy:
    async def test_sets_and_clears_the_parent(self, api: Api) -> None:
        parent = await api.create()
        child = await api.create()
        moved = await api.patch(child["id"], {"parent_id": parent["id"]})
        assert moved.json()["parent_id"] == parent["id"]
        cleared = await api.patch(child["id"], {"parent_id": None})
        assert cleared.json()["parent_id"] is None

    async def test_refuses_the_partner_as_its_own_parent(self, api: Api) -> None:
        partner = await api.create()
        api.problem(await api.patch(partner["id"], {"parent_id": partner["id"]}), 409)

    async def test_refuses_a_descendant_as_parent(self, api: Api) -> None:
        top = await api.create()
        middle = await api.create(parent_id=top["id"])
        bottom = await api.create(parent_id=middle["id"])
        api.problem(await api.patch(top["id"], {"parent_id": middle["id"]}), 409)
        body = api.problem(await api.patch(top["id"], {"parent_id": bottom["id"]}), 409)
        assert body["cycle"] == [bottom["id"], middle["id"], top["id"]]
        assert (await api.get(top["id"])).json()["parent_id"] is None

    async def test_refuses_an_unknown_parent(self, api: Api) -> None:
        partner = await api.create()
        api.problem(await api.patch(partner["id"], {"parent_id": str(uuid.uuid4())}), 422)

    async def test_lists_direct_children_only(self, api: Api) -> None:
        top = await api.create(code="H-TOP")
        await api.create(code="H-B", parent_id=top["id"])
        a = await api.create(code="H-A", parent_id=top["id"])
        await api.create(code="H-GRANDCHILD", parent_id=a["id"])
        assert await api.codes(f"/partners/{top['id']}/children") == ["H-A", "H-B"]
        api.problem(await api.request("GET", f"/partners/{uuid.uuid4()}/children"), 404)
