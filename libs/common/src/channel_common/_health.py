"""`/livez` (the process runs) and `/readyz` (database and NATS answer, not shutting down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ._db import read_session

__all__ = ["ReadinessCheck", "health_router"]

ReadinessCheck = Callable[[Request], Awaitable[bool]]
health_router = APIRouter(tags=["health"])


@health_router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@health_router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: every dependency answers and the process is not shutting down."""
    state = request.app.state
    checks: dict[str, bool] = {"running": not state.shutting_down}
    for name, check in state.readiness_checks.items():
        try:
            checks[name] = await check(request)
        except Exception:
            checks[name] = False
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    headers = None if ready else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)


async def database_ready(request: Request) -> bool:
    """The database answers a trivial query (on SQLite without the write lock)."""
    async with read_session(request.app.state.sessions) as session:
        await session.execute(text("SELECT 1"))
    return True


async def nats_ready(request: Request) -> bool:
    """The NATS connection is up."""
    return bool(request.app.state.bus.connected)
