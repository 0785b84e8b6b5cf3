"""Input is taken as the OpenAPI document states it: a date is an ISO 8601 string, not a number
read as a Unix timestamp; an object is a JSON object."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api

Body = Callable[..., dict[str, Any]]


@pytest.mark.parametrize(
    "overrides",
    [{"valid_from": 0}, {"valid_from": "1767225600"}, {"valid_to": 1.5}, {"basis": 1}],
)
async def test_a_program_with_a_lax_value_is_refused(
    api: Api, program_body: Body, overrides: dict[str, Any]
) -> None:
    response = await api.request("POST", "/rebate-programs", json=program_body(**overrides))
    api.problem(response, 422)
    assert (await api.request("GET", "/rebate-programs")).json()["items"] == []
