"""The application factory every service builds on: errors, guards, metrics, logs, health,
database, NATS, outbox relay and consumers, wired the same way everywhere."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware import Middleware

from ._auth import JWTVerifier
from ._bus import EventBus
from ._consumer import EventHandler, idempotent_consumer
from ._context import RequestContextMiddleware
from ._db import create_engine, create_sessionmaker
from ._errors import install_error_handlers
from ._health import ReadinessCheck, database_ready, health_router, nats_ready
from ._housekeeping import Retention, run_housekeeping
from ._limits import RequestGuardMiddleware
from ._logging import configure_logging
from ._metrics import metrics_router
from ._openapi import install_openapi
from ._outbox import OutboxRelay
from ._settings import BaseServiceSettings

__all__ = ["BackgroundTask", "Subscription", "create_service_app"]

BackgroundTask = Callable[[FastAPI], Coroutine[Any, Any, None]]
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


@dataclass(frozen=True)
class Subscription:
    """An event handler bound to a durable consumer on a stream."""

    durable: str
    stream: str
    subjects: tuple[str, ...]
    handler: EventHandler


def create_service_app(
    settings: BaseServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription] = (),
    background: Sequence[BackgroundTask] = (),
    streamed_paths: Mapping[str, tuple[frozenset[str], int | None]] | None = None,
    openapi_tags: list[dict[str, str]] | None = None,
    middleware: Sequence[Middleware] = (),
    messaging: bool = True,
    serve_openapi: bool = True,
) -> FastAPI:
    """A FastAPI app with the suite's infrastructure around `routers`.

    `middleware` runs innermost (after request ids, trace context and body guards, before
    routing); `messaging=False` leaves out NATS, the outbox relay and the consumers;
    `serve_openapi=False` leaves `/openapi.json` and `/docs` to the caller (`app.openapi()`
    still gives the document)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(
            service=settings.service_name, level=settings.log_level, json_logs=settings.log_json
        )
        engine = create_engine(settings.database_url)
        sessions = create_sessionmaker(engine)
        bus = EventBus(
            url=settings.nats_url,
            name=settings.service_name,
            connect_timeout=settings.nats_connect_timeout_seconds,
            stream_replicas=settings.nats_stream_replicas,
        )
        for sub in subscriptions:
            bus.add_consumer(
                idempotent_consumer(
                    durable=sub.durable,
                    stream=sub.stream,
                    subjects=sub.subjects,
                    handler=sub.handler,
                    sessions=sessions,
                    max_deliver=settings.consumer_max_deliver,
                    ack_wait_seconds=settings.consumer_ack_wait_seconds,
                    retry_base_seconds=settings.consumer_retry_base_seconds,
                    retry_max_seconds=settings.consumer_retry_max_seconds,
                )
            )
        relay = OutboxRelay(
            sessions=sessions,
            bus=bus,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            fault_exit_before_mark_sent=settings.fault_exit_before_mark_sent,
        )
        app.state.engine, app.state.sessions, app.state.bus = engine, sessions, bus
        app.state.relay, app.state.shutting_down = relay, False
        tasks: list[asyncio.Task[None]] = []
        if messaging:
            bus.start()
            tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(
            asyncio.create_task(
                run_housekeeping(
                    sessions,
                    Retention.from_settings(settings),
                    settings.housekeeping_interval_seconds,
                ),
                name="housekeeping",
            )
        )
        tasks += [asyncio.create_task(task(app)) for task in background]
        try:
            yield
        finally:
            app.state.shutting_down = True
            relay.stop()
            for task in tasks:
                if task.get_name() != "outbox-relay":
                    task.cancel()
            # Cancelling a task inside a database call can wedge the driver: let the relay
            # finish its batch, and give every task a bounded time to end.
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=10)
                for task in pending:
                    task.cancel()
            await bus.close()
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        openapi_url="/openapi.json" if serve_openapi else None,
        redoc_url=None,  # public paths are the ones DESIGN.md lists; /docs is the reference
        # The suite observes itself (Prometheus, JSON logs, traceparent): FastAPI's own
        # OpenTelemetry, inert without a provider, would still look for one on every request.
        telemetry=_NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.verifier = JWTVerifier.from_settings(settings)
    app.state.shutting_down = False
    checks: dict[str, ReadinessCheck] = {"database": database_ready}
    if messaging:
        checks["nats"] = nats_ready
    app.state.readiness_checks = checks
    install_error_handlers(app)
    install_openapi(app)
    for layer in reversed(middleware):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    app.add_middleware(
        RequestGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        streamed_paths=streamed_paths,
    )
    # One pass, outermost: request id, trace context, metrics and the request's log line.
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(metrics_router)
    for router in routers:
        app.include_router(router)
    return app
