"""A webhook receiver for the story: a small HTTP server in a thread that records every POST,
and the Standard Webhooks signature check a real receiver would make."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Receipt", "Receiver", "running_receiver", "signature_is_valid"]

# Standard Webhooks' recommended tolerance for the signed timestamp.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60


@dataclass(frozen=True)
class Receipt:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


class Receiver:
    """The receipts so far, safe to read from the test while the server thread adds to them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receipts: list[Receipt] = []
        self.url = ""

    def add(self, receipt: Receipt) -> None:
        """Record a request."""
        with self._lock:
            self._receipts.append(receipt)

    def receipts(self) -> list[Receipt]:
        """A copy of the receipts, oldest first."""
        with self._lock:
            return list(self._receipts)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.add(Receipt(self.path, headers, body, time.time()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows the receipts when an assertion fails."""

    return Handler


@contextmanager
def running_receiver(path: str = "/hooks/channel") -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def signature_is_valid(secret: str, receipt: Receipt, *, now: float | None = None) -> bool:
    """Standard Webhooks: one of the space-separated `v1,<sig>` entries is the base64
    HMAC-SHA256 of `id.timestamp.body` under the secret's base64-decoded key, and the
    timestamp is recent."""
    msg_id = receipt.headers["webhook-id"]
    timestamp = receipt.headers["webhook-timestamp"]
    if abs((now or time.time()) - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + receipt.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in receipt.headers["webhook-signature"].split(" ")
    )
