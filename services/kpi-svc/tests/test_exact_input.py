"""Input is taken as the OpenAPI document states it: a date is an ISO 8601 string (not a number
read as a Unix timestamp), a boolean is `true`/`false`. Found by the battery's fuzzing (H1 at soak
size: `GET /observations?from=0.0` answered 200 as if from 1970-01-01)."""

from __future__ import annotations

from typing import Any

import pytest
from channel_common.testing import assert_problem

from .conftest import Kpi, obs


@pytest.mark.parametrize("value", ["0.0", "0", "20261015", "9.6e-135"])
async def test_a_date_filter_must_be_an_iso_date(kpi: Kpi, value: str) -> None:
    body = assert_problem(await kpi.get("/observations", **{"from": value}), 422)
    assert [error["loc"][-1] for error in body["errors"]] == ["from"]


@pytest.mark.parametrize("occurred_on", [0, 1760486400, "1760486400", True])
async def test_an_observation_date_must_be_an_iso_date(kpi: Kpi, occurred_on: Any) -> None:
    partner = await kpi.partner()
    response = await kpi.post_batch([obs(partner, occurred_on=occurred_on)])
    assert_problem(response, 422)
    assert (await kpi.ok("/observations"))["items"] == []


@pytest.mark.parametrize("flag", [1, "true", 0])
async def test_a_definition_flag_must_be_a_boolean(kpi: Kpi, flag: Any) -> None:
    body = {"key": "visits", "name": "Visits", "unit": "count", "aggregation": "sum"}
    response = await kpi.request("POST", "/kpi-definitions", json=body | {"higher_is_better": flag})
    assert_problem(response, 422)
    assert (await kpi.get("/kpi-definitions/visits")).status_code == 404
