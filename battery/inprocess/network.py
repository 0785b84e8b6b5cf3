"""A fake network for the webhook tests: a resolver answering from `FAKE_DNS` (numeric
addresses only otherwise, so no DNS query leaves), HTTP answered in memory, and a count of every
connection attempted. Kept out of conftest.py so tests and fixtures share one `FAKE_DNS`."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from typing import Any

import httpx
import pytest

PUBLIC = "93.184.215.14"
REDIRECTOR = "redirector.example.com"
RECEIVER = "receiver.example.com"
PUBLIC_NAMES = frozenset({REDIRECTOR, RECEIVER})
# The fake resolver: names and the addresses they resolve to (tests add their own).
FAKE_DNS: dict[str, list[str]] = {name: [PUBLIC] for name in PUBLIC_NAMES}


class Wire:
    """Counts every connection the app attempts and answers HTTP in place of the network."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.sockets: Counter[str] = Counter()
        self.resolved: Counter[str] = Counter()
        self.sent: list[httpx.Request] = []


def install_fake_network(monkeypatch: pytest.MonkeyPatch) -> Wire:
    """Fake resolver, no real DNS; HTTP answered in memory; socket connects counted."""
    wire = Wire()
    real_getaddrinfo = asyncio.base_events.BaseEventLoop.getaddrinfo
    real_create_connection = asyncio.base_events.BaseEventLoop.create_connection

    async def getaddrinfo(self: Any, host: Any, port: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        wire.resolved[name] += 1
        if name in FAKE_DNS:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (a, port, 0, 0) if ":" in a else (a, port),
                )
                for a in FAKE_DNS[name]
            ]
        # Anything else must be a numeric address (inet_aton forms included): no DNS traffic.
        kwargs["flags"] = kwargs.get("flags", 0) | socket.AI_NUMERICHOST
        return await real_getaddrinfo(self, host, port, **kwargs)

    async def create_connection(self: Any, protocol: Any, host: Any = None, port: Any = None,
                                **kwargs: Any) -> Any:  # fmt: skip
        if port in (80, 443, 8080):
            wire.sockets[f"{host}:{port}"] += 1
            raise OSError("the battery allows no outbound connection")
        return await real_create_connection(self, protocol, host, port, **kwargs)

    async def handle(self: Any, request: httpx.Request) -> httpx.Response:
        wire.requests[str(request.url)] += 1
        wire.sent.append(request)
        if request.headers.get("host", "").startswith(REDIRECTOR):
            location = "http://169.254.169.254/latest/meta-data/"
            return httpx.Response(302, headers={"Location": location}, request=request)
        return httpx.Response(200, request=request)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "create_connection", create_connection)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle)
    return wire
