"""A small asyncio TCP proxy for network faults between a service and NATS or PostgreSQL.

`FaultProxy` listens on a free loopback port and forwards every connection to one target. Its
mode is switched at run time by the test:

- `PASS`: forward as is;
- `LATENCY`: forward each chunk after `latency` seconds (both directions);
- `BLACKHOLE`: accept and keep connections but forward nothing (data waits in the kernel's
  buffers and flows again when the mode leaves `BLACKHOLE`, like a partition that heals);
- `RESET`: close every connection, current and new, with a TCP RST (`SO_LINGER` 0).

The proxy runs its own event loop in a thread, so tests on any loop (or none) can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import struct
import threading
from dataclasses import dataclass, field

__all__ = ["FaultProxy", "Mode"]

_CHUNK = 64 * 1024


class Mode(enum.Enum):
    """What the proxy does to the traffic."""

    PASS = "pass"
    LATENCY = "latency"
    BLACKHOLE = "blackhole"
    RESET = "reset"


@dataclass(eq=False)
class _Pair:
    """The two sockets of one proxied connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """A TCP proxy from `127.0.0.1:<port>` to `target_host:target_port` with switchable faults."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode = Mode.PASS
        self.latency = 0.0
        self.connections = 0  # accepted so far
        self.resets = 0  # connections closed with RST
        self._pairs: set[_Pair] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()

    @property
    def url_host_port(self) -> str:
        """`127.0.0.1:<port>`, to put into a service's NATS or database URL."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on a free port and start forwarding."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def set_mode(self, mode: Mode, *, latency: float = 0.0) -> None:
        """Switch the fault; RESET also resets the connections open now."""
        asyncio.run_coroutine_threadsafe(self._switch(mode, latency), self._loop).result(10)

    def close(self) -> None:
        """Stop listening, drop every connection and end the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _switch(self, mode: Mode, latency: float) -> None:
        self.mode, self.latency = mode, latency
        if mode is Mode.BLACKHOLE:
            self._flowing.clear()
        else:
            self._flowing.set()
        if mode is Mode.RESET:
            for pair in list(self._pairs):
                self._drop(pair, reset=True)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._flowing.set()
        for pair in list(self._pairs):
            self._drop(pair, reset=False)

    def _drop(self, pair: _Pair, *, reset: bool) -> None:
        for writer in (pair.client, pair.upstream):
            if writer is None:
                continue
            if reset:
                _reset(writer)
            else:
                writer.close()
        if reset:
            self.resets += 1
        for task in pair.tasks:
            task.cancel()
        self._pairs.discard(pair)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        pair = _Pair(client=writer)
        if self.mode is Mode.RESET:
            self._drop(pair, reset=True)
            return
        self._pairs.add(pair)
        await self._flowing.wait()  # a blackholed connection is accepted but goes nowhere
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._drop(pair, reset=True)
            return
        if pair not in self._pairs:  # reset while connecting
            _reset(up_writer)
            return
        pair.upstream = up_writer
        pair.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, pair)),
            asyncio.create_task(self._pump(up_reader, writer, pair)),
        ]

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, pair: _Pair
    ) -> None:
        try:
            while True:
                await self._flowing.wait()
                data = await source.read(_CHUNK)
                if not data:
                    break
                if self.mode is Mode.LATENCY and self.latency > 0:
                    await asyncio.sleep(self.latency)
                await self._flowing.wait()  # hold data read just before a blackhole began
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        if pair in self._pairs:
            self._drop(pair, reset=False)
