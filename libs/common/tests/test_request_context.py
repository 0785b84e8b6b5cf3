"""One pass per request (the outermost middleware): its id, its trace context, its metrics and
its log line."""

from __future__ import annotations

import json
import re

import pytest
import structlog
from channel_common import create_service_app
from channel_common._logging import child_traceparent
from channel_common.testing import TEST_JWT_KEY, app_client
from fastapi import APIRouter, FastAPI, Request

from .widgets import WidgetSettings

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
MADE_ID = re.compile(r"[0-9a-f]{32}")

router = APIRouter()


@router.get("/echo/{name}")
async def echo(name: str, request: Request) -> dict[str, object]:
    """What the endpoint sees of the request's context."""
    structlog.get_logger("test").info("inside", name=name)
    return {"request_ids": request.headers.getlist("x-request-id"), "child": child_traceparent()}


@pytest.fixture
def app(database_url: str) -> FastAPI:
    settings = WidgetSettings(jwt_key=TEST_JWT_KEY, database_url=database_url, log_json=True)
    return create_service_app(
        settings, title="t", description="t", routers=[router], messaging=False
    )


def _logged(out: str, event: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


class TestRequestId:
    @pytest.mark.parametrize("given", [None, "", "not valid!", "x" * 129])
    async def test_a_missing_or_invalid_one_is_made_echoed_once_and_passed_on(
        self, app: FastAPI, given: str | None
    ) -> None:
        headers = {} if given is None else {"X-Request-ID": given}
        async with app_client(app) as client:
            response = await client.get("/echo/a", headers=headers)

        (made,) = response.headers.get_list("x-request-id")
        assert MADE_ID.fullmatch(made)
        assert response.json()["request_ids"] == [made]

    async def test_a_valid_one_is_kept(self, app: FastAPI) -> None:
        async with app_client(app) as client:
            response = await client.get("/echo/a", headers={"X-Request-ID": "abc:1.2_3-4"})

        assert response.headers.get_list("x-request-id") == ["abc:1.2_3-4"]
        assert response.json()["request_ids"] == ["abc:1.2_3-4"]


class TestLogs:
    async def test_every_line_carries_the_request_id_and_the_trace_id(
        self, app: FastAPI, capsys: pytest.CaptureFixture[str]
    ) -> None:
        async with app_client(app) as client:
            traced = await client.get("/echo/t", headers={"traceparent": TRACEPARENT})
            untraced = await client.get("/echo/u")
        out = capsys.readouterr().out

        inside = {line["name"]: line for line in _logged(out, "inside")}
        requests = _logged(out, "http_request")
        assert [line["request_id"] for line in requests] == [
            traced.headers["x-request-id"],
            untraced.headers["x-request-id"],
        ]
        assert [line["trace_id"] for line in requests] == [TRACE_ID, None]
        assert (inside["t"]["trace_id"], inside["u"]["trace_id"]) == (TRACE_ID, None)
        assert inside["t"]["request_id"] == traced.headers["x-request-id"]
        assert {key: requests[0][key] for key in ("method", "route", "status")} == {
            "method": "GET",
            "route": "/echo/{name}",
            "status": 200,
        }
        assert isinstance(requests[0]["duration_ms"], float)
        assert traced.json()["child"].split("-")[1] == TRACE_ID
        assert untraced.json()["child"] is None

    async def test_probes_are_not_logged(
        self, app: FastAPI, capsys: pytest.CaptureFixture[str]
    ) -> None:
        async with app_client(app) as client:
            await client.get("/livez")
            await client.get("/metrics")

        assert _logged(capsys.readouterr().out, "http_request") == []


class TestMetrics:
    async def test_requests_are_timed_by_route_template_method_and_status(
        self, app: FastAPI
    ) -> None:
        async with app_client(app) as client:
            before = (await client.get("/metrics")).text
            await client.get("/echo/a")
            await client.get("/echo/b")
            await client.get("/nowhere")
            text = (await client.get("/metrics")).text

        def count(labels: str) -> float:
            name = f"http_server_request_duration_seconds_count{{{labels}}}"
            found = [line for line in text.splitlines() if line.startswith(name)]
            was = [line for line in before.splitlines() if line.startswith(name)]
            return float(found[0].split()[-1]) - (float(was[0].split()[-1]) if was else 0)

        assert count('method="GET",route="/echo/{name}",status="200"') == 2
        assert count('method="GET",route="unmatched",status="404"') == 1
