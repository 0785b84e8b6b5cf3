"""A small local receiver of alert-svc's signed webhooks (Standard Webhooks), and
`channelctl webhooks listen` / `list` around it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import typer

from .context import gateway
from .display import console, table

__all__ = [
    "DEFAULT_PORT",
    "SIGNATURE_TOLERANCE_SECONDS",
    "Delivery",
    "Receiver",
    "app",
    "verify_signature",
]

app = typer.Typer(help="Webhooks: a local receiver, and the registered ones.", no_args_is_help=True)

DEFAULT_PORT = 8765
MAX_BODY = 1024 * 1024
SIGNATURE_TOLERANCE_SECONDS = 300  # Standard Webhooks: refuse older or future-dated deliveries


@dataclass(frozen=True)
class Delivery:
    """One notification received."""

    event_type: str
    data: dict[str, Any]
    signature_valid: bool | None  # None: no secret to check it with

    def line(self) -> str:
        """The notification in one line."""
        labels = self.data.get("labels") or {}
        check = {True: "signature ok", False: "BAD SIGNATURE", None: "unsigned check"}
        return (
            f"{self.event_type:<18} {self.data.get('severity', ''):<8} "
            f"{labels.get('partner_code', self.data.get('partner_id', ''))} "
            f"{self.data.get('kpi', '')} {self.data.get('period', '')}: "
            f"{self.data.get('summary', '')} ({check[self.signature_valid]})"
        )


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> bool:
    """Standard Webhooks: whether `webhook-signature` holds a v1 HMAC-SHA256 of
    `id.timestamp.body` with `secret`, and the timestamp is within five minutes of `now`."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return False
    signed = f"{msg_id}.{stamp}.".encode()
    expected = base64.b64encode(hmac.new(key, signed + body, hashlib.sha256).digest()).decode()
    for candidate in headers.get("webhook-signature", "").split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Receiver:
    """An HTTP server on a local port that records (and reports) every delivery it gets."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        secret: str | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        """Bind now (OSError when the port is taken); serve after `start()`."""
        self.secret = secret
        self.deliveries: list[Delivery] = []
        self._on_delivery = on_delivery
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length)
                receiver.record({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # the receiver reports deliveries itself

        return Handler

    def record(self, headers: dict[str, str], body: bytes) -> None:
        """Keep one delivery and report it."""
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        valid = None if self.secret is None else verify_signature(self.secret, headers, body)
        data = payload.get("data")
        delivery = Delivery(
            event_type=str(payload.get("type", "?")),
            data=data if isinstance(data, dict) else {},
            signature_valid=valid,
        )
        with self._lock:
            self.deliveries.append(delivery)
        if self._on_delivery is not None:
            self._on_delivery(delivery)

    def start(self) -> Receiver:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def serve(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def received(self) -> list[Delivery]:
        """The deliveries so far."""
        with self._lock:
            return list(self.deliveries)


@app.command("listen")
def listen(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = DEFAULT_PORT,
    secret: Annotated[
        str | None, typer.Option(help="The webhook's whsec_ secret, to check signatures.")
    ] = None,
) -> None:
    """Receive alert notifications on a local port and print each one (Ctrl-C stops)."""
    out = console()
    receiver = Receiver(
        port=port,
        secret=secret,
        on_delivery=lambda d: out.print(d.line(), markup=False, soft_wrap=True),
    )
    out.print(f"listening on http://127.0.0.1:{receiver.port}/ (Ctrl-C stops)")
    try:
        receiver.serve()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


@app.command("list")
def list_webhooks(ctx: typer.Context) -> None:
    """List the registered webhooks."""
    with gateway(ctx) as gw:
        rows = list(gw.paginate("/api/v1/webhooks"))
    console().print(
        table(
            f"Webhooks ({len(rows)})",
            [
                ("URL", lambda w: str(w["url"])),
                ("Events", lambda w: ", ".join(w["events"])),
                ("Min severity", lambda w: str(w["min_severity"])),
                ("Id", lambda w: str(w["id"])),
            ],
            rows,
        )
    )
