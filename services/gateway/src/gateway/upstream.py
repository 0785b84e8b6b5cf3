"""The pooled HTTP/1.1 client the proxy sends through: aiohttp (C parser, asyncio protocols),
chosen by measurement over httpx and httpcore (docs/decisions.md, issue 14).

Failures come out as the three errors the proxy answers with (503, 504, 502), whatever the
client library calls them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator

import aiohttp
from yarl import URL

from .settings import Settings

__all__ = [
    "Answer",
    "PoolExhaustedError",
    "UpstreamPool",
    "UpstreamTimeoutError",
    "UpstreamUnreachableError",
]

Headers = list[tuple[bytes, bytes]]
Body = bytes | AsyncIterable[bytes] | None
# Below uvicorn's 5 s keep-alive: the gateway drops an idle connection before the service does.
KEEPALIVE_SECONDS = 4.0
# Nothing the caller did not send: aiohttp adds only Host (and the body's framing).
_NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


class PoolExhaustedError(Exception):
    """No connection to the service came free in time."""


class UpstreamTimeoutError(Exception):
    """The service did not connect, take the request or answer in time."""


class UpstreamUnreachableError(Exception):
    """The service refused the connection or broke it."""


class Answer:
    """The service's status and headers; its body read whole or relayed in chunks. `aclose`
    gives the connection back (always call it)."""

    __slots__ = ("_pool", "_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, pool: asyncio.Semaphore) -> None:
        self._response = response
        self._pool = pool
        self.status: int = response.status
        self.headers: Headers = list(response.raw_headers)

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except _FAILURES as exc:
            raise _mapped(exc) from exc

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        self._response.release()
        self._pool.release()


_FAILURES = (asyncio.TimeoutError, aiohttp.ClientError)


def _mapped(exc: BaseException) -> Exception:
    """aiohttp's failure as the proxy's (a timeout is a client error too: it comes first)."""
    if isinstance(exc, asyncio.TimeoutError):
        return UpstreamTimeoutError(type(exc).__name__)
    return UpstreamUnreachableError(repr(exc))


class UpstreamPool:
    """Keep-alive connections for every proxied call, at most `upstream_max_connections` in
    use (a caller waits up to the upstream timeout for one: then 503); no cookies, no
    redirects, no decompression, no headers of its own but Host. Open it in the lifespan."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.upstream_max_connections)
        self._wait_seconds = settings.upstream_timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        """Start the session (inside the running event loop)."""
        settings = self._settings
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=0, keepalive_timeout=KEEPALIVE_SECONDS, use_dns_cache=True
            ),
            timeout=aiohttp.ClientTimeout(
                sock_connect=settings.upstream_connect_timeout_seconds,
                sock_read=settings.upstream_timeout_seconds,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=_NO_AUTO_HEADERS,
        )

    async def send(self, method: str, url: str, headers: Headers, body: Body) -> Answer:
        """Send the request; the answer once its headers are in."""
        assert self._session is not None, "UpstreamPool.open() was not called"
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self._wait_seconds)
            except TimeoutError as exc:
                raise PoolExhaustedError("no free connection") from exc
        else:
            await self._slots.acquire()
        try:
            response = await self._session.request(
                method,
                URL(url, encoded=True),  # the path exactly as the caller sent it
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                data=body,
                allow_redirects=False,
            )
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, _FAILURES):
                raise _mapped(exc) from exc
            raise
        return Answer(response, self._slots)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
