"""The benchmark's webhook receiver: stamps each delivery on arrival, checks its signature."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from channel_common.testing import free_port
from channelctl.webhooks import verify_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOST = "127.0.0.1"


@dataclass
class Arrival:
    """One delivery as the receiver saw it."""

    mono: float
    wall: float
    partner_id: str
    started_at: str | None
    signature_ok: bool
    webhook_id: str


@dataclass
class Receiver:
    """A Starlette app on a free loopback port, served by uvicorn in its own thread so that
    stamping an arrival never waits for the benchmark's own event loop."""

    secret: str
    port: int = field(default_factory=free_port)
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    duplicates: int = 0
    bad_signatures: int = 0
    other_events: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where alert-svc posts."""
        return f"http://{HOST}:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        mono, wall = time.perf_counter(), time.time()
        ok = verify_signature(self.secret, request.headers, body)
        try:
            message = json.loads(body)
            data: dict[str, Any] = message["data"]
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        with self.lock:
            if not ok:
                self.bad_signatures += 1
            if kind != "alert.fired":
                self.other_events += 1
                return Response(status_code=204)
            partner_id = str(data.get("partner_id"))
            if partner_id in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[partner_id] = Arrival(
                    mono=mono,
                    wall=wall,
                    partner_id=partner_id,
                    started_at=data.get("started_at"),
                    signature_ok=ok,
                    webhook_id=request.headers.get("webhook-id", ""),
                )
        return Response(status_code=204)

    def start(self) -> None:
        """Serve in a daemon thread; returns once the socket accepts."""
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host=HOST, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait a little for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def count(self) -> int:
        """Distinct partners whose alert arrived."""
        with self.lock:
            return len(self.arrivals)
