"""The streaming reverse proxy: routing by prefix, headers in and out, bodies, upstream failures."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from channel_common.testing import app_client, bearer, free_port
from gateway.app import create_app
from gateway.proxy import service_for_path
from gateway.settings import Settings

ROUTED = {
    "/api/v1/partners": "partner",
    "/api/v1/partners/5b8d/history/verify": "partner",
    "/api/v1/tiers": "partner",
    "/api/v1/territories/owner": "partner",
    "/api/v1/kpi-definitions/sales_amount": "kpi",
    "/api/v1/observations": "kpi",
    "/api/v1/observations:import": "kpi",
    "/api/v1/kpis/sales_amount/series": "kpi",
    "/api/v1/targets": "kpi",
    "/api/v1/scorecards/5b8d": "kpi",
    "/api/v1/rebate-programs/1/simulate": "rebate",
    "/api/v1/rebate-runs": "rebate",
    "/api/v1/rebate-statements/1/approve": "rebate",
    "/api/v1/accruals": "rebate",
    "/api/v1/alert-rules": "alert",
    "/api/v1/alerts/1/ack": "alert",
    "/api/v1/silences": "alert",
    "/api/v1/webhooks/1/deliveries": "alert",
}


@pytest.fixture
def everything(settings: Settings) -> dict[str, str]:
    return bearer(settings, ["admin"])


class TestRouting:
    @pytest.mark.parametrize(("path", "service"), ROUTED.items())
    def test_prefix_picks_the_service(self, path: str, service: str) -> None:
        assert service_for_path(path) == service

    @pytest.mark.parametrize("path", ["/api/v1/api-keys", "/api/v1/unknown", "/api/v2/partners"])
    def test_other_paths_are_not_proxied(self, path: str) -> None:
        assert service_for_path(path) is None

    @pytest.mark.parametrize(("path", "service"), ROUTED.items())
    async def test_request_reaches_that_service_with_path_and_query(
        self,
        gateway: httpx.AsyncClient,
        upstreams: Any,
        everything: dict[str, str],
        path: str,
        service: str,
    ) -> None:
        response = await gateway.get(f"{path}?a=1&b=x%20y", headers=everything)

        assert response.status_code == 200
        assert response.headers["x-upstream"] == service
        (seen,) = upstreams[service].seen
        assert (seen["path"], seen["query"]) == (path, "a=1&b=x%20y")
        assert sum(len(server.seen) for server in upstreams.values()) == 1

    async def test_unknown_api_path_is_404_problem(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        response = await gateway.get("/api/v1/unknown", headers=everything)

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert all(not server.seen for server in upstreams.values())

    async def test_dot_segments_are_not_forwarded(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        response = await gateway.get("/api/v1/partners/%2E%2E/api-keys", headers=everything)

        assert response.status_code == 404
        assert not upstreams["partner"].seen

    async def test_encoded_characters_reach_the_service_as_sent(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        await gateway.get("/api/v1/partners/by-code/a%2Fb%20c", headers=everything)

        assert upstreams["partner"].seen[0]["raw_path"] == "/api/v1/partners/by-code/a%2Fb%20c"


class TestHeaders:
    async def test_request_id_and_trace_context_are_propagated(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        request_id = uuid.uuid4().hex
        traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        headers = {
            **everything,
            "X-Request-ID": request_id,
            "traceparent": traceparent,
            "tracestate": "vendor=1",
        }

        response = await gateway.get("/api/v1/partners", headers=headers)

        seen = upstreams["partner"].seen[0]
        assert response.headers["x-request-id"] == request_id
        assert seen["headers"]["x-request-id"] == request_id
        assert seen["headers"]["traceparent"] == traceparent
        assert seen["headers"]["tracestate"] == "vendor=1"
        assert seen["repeated_headers"] == []

    @pytest.mark.parametrize(
        "traceparent", [None, "garbage", "00-" + "0" * 32 + "-b7ad6b7169203331-01"]
    )
    async def test_a_missing_or_invalid_traceparent_is_generated(
        self,
        gateway: httpx.AsyncClient,
        upstreams: Any,
        everything: dict[str, str],
        traceparent: str | None,
    ) -> None:
        extra = {"traceparent": traceparent, "tracestate": "a=b"} if traceparent else {}

        response = await gateway.get("/api/v1/tiers", headers={**everything, **extra})

        seen = upstreams["partner"].seen[0]["headers"]
        version, trace_id, parent_id, flags = seen["traceparent"].split("-")
        assert (version, len(trace_id), len(parent_id), flags) == ("00", 32, 16, "01")
        assert set(trace_id) != {"0"}
        assert "tracestate" not in seen
        assert response.headers["x-request-id"] == seen["x-request-id"]

    async def test_request_headers_pass_except_hop_by_hop_and_host(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        headers = {
            **everything,
            "Idempotency-Key": "k-1",
            "If-Match": '"v3"',
            "Accept": "application/json",
            "Connection": "keep-alive, x-private",
            "X-Private": "hop",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic eDp5",
            "X-Custom": "kept",
        }

        await gateway.patch("/api/v1/partners/1", json={"name": "n"}, headers=headers)

        seen = upstreams["partner"].seen[0]["headers"]
        assert seen["idempotency-key"] == "k-1"
        assert seen["if-match"] == '"v3"'
        assert seen["accept"] == "application/json"
        assert seen["content-type"] == "application/json"
        assert seen["x-custom"] == "kept"
        assert seen["host"] != "testserver"
        assert seen["x-forwarded-host"] == "testserver"
        assert seen["x-forwarded-proto"] == "http"
        for dropped in ("x-private", "keep-alive", "proxy-authorization"):
            assert dropped not in seen

    async def test_response_status_headers_and_body_come_back(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        response = await gateway.post(
            "/api/v1/rebate-runs?echo_status=202", json={"period": "2026-10"}, headers=everything
        )

        assert response.status_code == 202
        assert response.headers["x-upstream"] == "rebate"
        assert response.headers["content-type"] == "application/json"
        assert json.loads(response.json()["body"]) == {"period": "2026-10"}
        assert len(response.headers.get_list("x-request-id")) == 1
        assert len(response.headers.get_list("server")) <= 1

    async def test_upstream_cookies_are_not_kept_for_the_next_caller(
        self, gateway: httpx.AsyncClient, upstreams: Any, everything: dict[str, str]
    ) -> None:
        await gateway.get("/api/v1/alerts", headers=everything)
        gateway.cookies.clear()
        await gateway.get("/api/v1/alerts", headers=everything)

        assert "cookie" not in upstreams["alert"].seen[1]["headers"]


class TestBodies:
    async def test_a_large_ndjson_import_streams_through_intact(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        line = b'{"partner_id":"5b8d","kpi":"units_sold","value":"3","occurred_on":"2026-10-01"}\n'
        body = line * (5 * 1024 * 1024 // len(line) + 1)
        settings = make_settings(max_body_bytes=1024 * 1024)  # the import is exempt
        async with app_client(create_app(settings)) as client:

            async def chunks() -> Any:
                for start in range(0, len(body), 256 * 1024):
                    yield body[start : start + 256 * 1024]

            response = await client.post(
                "/api/v1/observations:import",
                content=chunks(),
                headers={
                    **bearer(settings, ["kpis:write"]),
                    "content-type": "application/x-ndjson",
                },
            )

        assert response.status_code == 200
        seen = upstreams["kpi"].seen[0]
        assert len(body) > 5 * 1024 * 1024
        assert seen["body_length"] == len(body)
        assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()

    async def test_other_bodies_over_the_limit_are_refused_with_413(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(max_body_bytes=1024)
        async with app_client(create_app(settings)) as client:
            response = await client.post(
                "/api/v1/observations",
                content=b"[" + b"1," * 2000 + b"1]",
                headers={**bearer(settings, ["kpis:write"]), "content-type": "application/json"},
            )

        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    async def test_a_streamed_body_over_the_limit_is_cut_off_with_413(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(max_body_bytes=100_000)

        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 50_000

        async with app_client(create_app(settings)) as client:
            response = await client.post(
                "/api/v1/observations",
                content=chunks(),
                headers={**bearer(settings, ["kpis:write"]), "content-type": "application/json"},
            )

        assert response.status_code == 413


class TestUpstreamFailures:
    async def test_an_unreachable_service_is_502_quickly(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(alert_url=f"http://127.0.0.1:{free_port()}")
        async with app_client(create_app(settings)) as client:
            started = time.monotonic()
            response = await client.get("/api/v1/alerts", headers=bearer(settings, ["admin"]))
            elapsed = time.monotonic() - started

        assert response.status_code == 502
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 502
        assert "alert" in response.json()["detail"]
        assert elapsed < settings.upstream_connect_timeout_seconds

    async def test_a_slow_service_is_504_within_the_timeout(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(upstream_timeout_seconds=0.5)
        async with app_client(create_app(settings)) as client:
            started = time.monotonic()
            response = await client.get(
                "/api/v1/kpis/x/series?echo_sleep=3", headers=bearer(settings, ["admin"])
            )
            elapsed = time.monotonic() - started

        assert response.status_code == 504
        assert response.headers["content-type"] == "application/problem+json"
        assert 0.5 <= elapsed < 0.5 + 1.0
        assert upstreams["kpi"].seen  # it did reach the service, which was too slow

    async def test_outcomes_are_counted_per_service(
        self, make_settings: Callable[..., Settings], upstreams: Any
    ) -> None:
        settings = make_settings(rebate_url=f"http://127.0.0.1:{free_port()}")
        async with app_client(create_app(settings)) as client:
            admin = bearer(settings, ["admin"])
            await client.get("/api/v1/partners", headers=admin)
            await client.get("/api/v1/accruals", headers=admin)
            metrics = (await client.get("/metrics")).text

        assert 'gateway_upstream_requests_total{outcome="ok",service="partner"}' in metrics
        assert 'gateway_upstream_requests_total{outcome="error",service="rebate"}' in metrics
        assert 'route="/api/v1/partners{path:path}"' in metrics


class TestOverRealSockets:
    async def test_bodies_stream_both_ways_through_a_served_gateway(
        self, make_settings: Callable[..., Settings], upstreams: Any, serve: Any
    ) -> None:
        settings = make_settings()
        body = bytes(range(256)) * (6 * 1024 * 1024 // 256)
        headers = {**bearer(settings, ["kpis:write"]), "content-type": "text/csv"}
        path = "/api/v1/observations:import?echo_body=1"
        async with (
            serve(create_app(settings)) as url,
            httpx.AsyncClient(base_url=url) as client,
            client.stream("POST", path, content=body, headers=headers) as response,
        ):
            received = b"".join([chunk async for chunk in response.aiter_raw()])
            request_id = response.headers["x-request-id"]

        assert response.status_code == 200
        assert received == body
        assert upstreams["kpi"].seen[0]["headers"]["x-request-id"] == request_id
        assert upstreams["kpi"].seen[0]["body_sha256"] == hashlib.sha256(body).hexdigest()
