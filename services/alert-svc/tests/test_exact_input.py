"""Input is taken as the OpenAPI document states it: a boolean is `true`/`false`, an integer is
not `true`, a date-time is an ISO 8601 string (not a Unix timestamp)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Api

RULE = {
    "name": "low sales",
    "kpi": "sales_amount",
    "condition": {"type": "threshold", "op": "lt", "value": "1000"},
    "severity": "warning",
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"enabled": 1},
        {"enabled": "true"},
        {"for_periods": True},
        {"condition": {"type": "absence", "days": True}},
        {"condition": {"type": "anomaly", "lookback": True, "zscore": "3"}},
    ],
)
async def test_a_rule_with_a_lax_value_is_refused(api: Api, overrides: dict[str, Any]) -> None:
    response = await api.request("POST", "/alert-rules", json=RULE | overrides)
    api.problem(response, 422)
    assert (await api.request("GET", "/alert-rules")).json()["items"] == []


@pytest.mark.parametrize("ends_at", [1893456000, "1893456000", True])
async def test_a_silence_end_must_be_an_iso_date_time(api: Api, ends_at: Any) -> None:
    body = {"matchers": {"partner_code": "P-1"}, "ends_at": ends_at, "created_by": "ops-alice"}
    body["comment"] = "planned ERP migration"
    problem = api.problem(await api.request("POST", "/silences", json=body), 422)
    assert [error["loc"][-1] for error in problem["errors"]] == ["ends_at"]
    assert (await api.request("GET", "/silences")).json()["items"] == []


async def test_an_acknowledgement_body_must_be_an_object(api: Api) -> None:
    response = await api.request(
        "POST",
        "/alerts/00000000-0000-4000-8000-000000000000/ack",
        content=b"5",
        headers={"Content-Type": "application/json"},
    )
    api.problem(response, 422)
