"""Input is taken as the OpenAPI document states it: money sent as a JSON number stays exact,
and pydantic's lax conversions (a number for an object, `true` for 1, 1 for `true`) are refused.
The refused cases were found by the battery's fuzzing (H1 at soak size)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api


async def test_a_money_number_beyond_float_precision_is_kept_exactly(api: Api) -> None:
    # 1234567890123456.78 as a float is 1234567890123456.75 (the nearest double).
    body = b'{"registered_capital": 1234567890123456.78, "years_in_business": 3}'
    partner = await api.create()
    response = await api.request(
        "PATCH",
        f"/partners/{partner['id']}",
        content=b'{"qualification": ' + body + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["qualification"]["registered_capital"] == "1234567890123456.78"


@pytest.mark.parametrize(
    "overrides",
    [
        {"contact": 2.0},  # H1: a number taken as an empty contact → 201
        {"contact": "someone"},
        {"qualification": 0},
        {"qualification": {"years_in_business": True}},
        {"qualification": {"service_staff": "12"}},
    ],
)
async def test_a_create_with_a_lax_value_is_refused(api: Api, overrides: dict[str, Any]) -> None:
    response = await api.post_partner(**overrides)
    api.problem(response, 422)
    listed = await api.request("GET", "/partners")
    assert listed.json()["items"] == []


@pytest.mark.parametrize("body", [b"2", b'"x"', b"[]"])
async def test_a_patch_that_is_not_an_object_is_refused(api: Api, body: bytes) -> None:
    partner = await api.create()
    response = await api.request(
        "PATCH",
        f"/partners/{partner['id']}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    api.problem(response, 422)
    assert (await api.get(str(partner["id"]))).json()["version"] == partner["version"]


async def test_a_territory_flag_must_be_a_boolean(api: Api) -> None:
    partner = await api.create()
    response = await api.put_territories(
        str(partner["id"]), {"territories": [{"region": "CN-GD", "exclusive": 1}]}
    )
    body = api.problem(response, 422)
    assert any(error["loc"][-1] == "exclusive" for error in body["errors"])
