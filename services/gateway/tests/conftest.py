"""Fixtures of the gateway tests: real upstream HTTP servers on loopback, a migrated gateway
database, settings pointing at both, and a client running the gateway in-process."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from channel_common import Problem
from channel_common.testing import TEST_JWT_KEY, app_client, free_port, fresh_database_url
from gateway.app import create_app
from gateway.settings import Settings
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
ADMIN_KEY = "csk_test-bootstrap-admin-key-0123456789"
SERVICES = ("partner", "kpi", "rebate", "alert")
# Each fake service documents one path it serves and one the gateway does not route to it.
DOCUMENTED_PATHS = {
    "partner": "/api/v1/partners",
    "kpi": "/api/v1/kpis/{kpi}/series",
    "rebate": "/api/v1/rebate-programs",
    "alert": "/api/v1/alerts",
}


def problem_schemas() -> dict[str, Any]:
    """The Problem schemas exactly as every service documents them."""
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**problem.pop("$defs", {}), "Problem": problem}


def service_document(service: str) -> dict[str, Any]:
    """A small OpenAPI document like a service's: a list path, `Page` and `Problem`."""
    read = f"{service.capitalize()}Read"
    operation = {
        "operationId": "list_items",
        "summary": f"List {service} items.",
        "tags": [service],
        "security": [{"HTTPBearer": []}],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
            },
            "401": {
                "description": "Missing or invalid credentials",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Channel Suite {service}-svc", "version": "1.0.0"},
        "paths": {DOCUMENTED_PATHS[service]: {"get": operation}, "/internal/debug": {}},
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": f"#/components/schemas/{read}"},
                        }
                    },
                },
                read: {"type": "object", "properties": {"id": {"type": "string"}}},
                **problem_schemas(),
            },
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
        "tags": [{"name": service}],
    }


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # several servers share the test process: leave its signal handlers alone


class EchoUpstream:
    """A real HTTP server on loopback standing in for a service: records every request that
    reaches it and answers with what it saw. `?echo_sleep=s` delays the answer,
    `?echo_status=n` sets its status and `?echo_body` answers with the request body itself."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.port = free_port()
        self.seen: list[dict[str, Any]] = []
        self.ready = True
        self.documented = True
        self.document_fetches = 0
        app = Starlette(
            routes=[
                Route("/readyz", self._readyz),
                Route("/openapi.json", self._openapi),
                Route(
                    "/{path:path}",
                    self._echo,
                    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                ),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):  # up to 5 s
            if self._server.started:
                return
            if self._task.done():
                break
            await asyncio.sleep(0.01)
        raise RuntimeError(f"the fake {self.service} service did not start")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    def reset(self) -> None:
        self.seen.clear()
        self.ready = True
        self.documented = True
        self.document_fetches = 0

    async def _readyz(self, _request: Request) -> Response:
        return JSONResponse({"ready": self.ready}, status_code=200 if self.ready else 503)

    async def _openapi(self, _request: Request) -> Response:
        self.document_fetches += 1
        if not self.documented:
            return JSONResponse({"detail": "broken"}, status_code=500)
        return JSONResponse(service_document(self.service))

    async def _echo(self, request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:  # the gateway gave up on the request (e.g. 413)
            return Response(status_code=400)
        record = {
            "service": self.service,
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": {k.decode(): v.decode() for k, v in request.scope["headers"]},
            "repeated_headers": sorted(
                {
                    k.decode()
                    for k, _ in request.scope["headers"]
                    if [n for n, _ in request.scope["headers"]].count(k) > 1
                }
            ),
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body": body.decode(errors="replace") if len(body) <= 65536 else None,
        }
        self.seen.append(record)
        if "echo_sleep" in request.query_params:
            await asyncio.sleep(float(request.query_params["echo_sleep"]))
        status = int(request.query_params.get("echo_status", "200"))
        headers = {"x-upstream": self.service, "set-cookie": "upstream=1; Path=/"}
        if "echo_body" in request.query_params:
            return Response(body, status, headers, media_type="application/octet-stream")
        return JSONResponse(record, status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app (lifespan included) with uvicorn on a free loopback port; its URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # up to 10 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def serve() -> Callable[[Any], contextlib.AbstractAsyncContextManager[str]]:
    """Run an app behind a real HTTP server: `async with serve(app) as url: ...`."""
    return serving


@pytest.fixture(scope="session")
async def upstream_servers() -> AsyncIterator[dict[str, EchoUpstream]]:
    """The four fake services, for the whole session."""
    servers = {service: EchoUpstream(service) for service in SERVICES}
    for server in servers.values():
        await server.start()
    yield servers
    for server in servers.values():
        await server.stop()


@pytest.fixture
def upstreams(upstream_servers: dict[str, EchoUpstream]) -> dict[str, EchoUpstream]:
    """The fake services, with nothing seen yet and all ready."""
    for server in upstream_servers.values():
        server.reset()
    return upstream_servers


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A freshly migrated gateway database."""
    yield from fresh_database_url(ALEMBIC_INI, tmp_path)


@pytest.fixture
def make_settings(
    database_url: str, nats_server: Any, upstreams: dict[str, EchoUpstream]
) -> Callable[..., Settings]:
    """Settings for a gateway in front of the fake services; keyword arguments override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "jwt_key": TEST_JWT_KEY,
            "database_url": database_url,
            "nats_url": nats_server.url,
            "bootstrap_admin_key": ADMIN_KEY,
            "upstream_timeout_seconds": 2.0,
            "upstream_probe_timeout_seconds": 0.5,
            "rate_limit_per_second": 1000.0,
            "rate_limit_burst": 1000,
            "log_json": False,
            **{f"{service}_url": upstreams[service].url for service in SERVICES},
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The default test settings."""
    return make_settings()


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running gateway (in-process) with the default test settings."""
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
def admin() -> dict[str, str]:
    """The Authorization header of the bootstrap admin key."""
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


KeyFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def create_key(admin: dict[str, str]) -> KeyFactory:
    """Create an API key as the bootstrap admin: the created body, plus `headers` to use it."""

    async def create(
        client: httpx.AsyncClient, scopes: list[str], *, partner_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": "test key", "scopes": scopes}
        if partner_id is not None:
            body["partner_id"] = partner_id
        response = await client.post("/api/v1/api-keys", json=body, headers=admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return {**created, "headers": {"Authorization": f"Bearer {created['key']}"}}

    return create
