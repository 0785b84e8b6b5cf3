"""The fault proxy itself: pass-through, latency, blackhole (healing) and reset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from faults.proxy import FaultProxy, Mode


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    with FaultProxy("127.0.0.1", port) as running:
        yield running
    server.close()


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: bytes, timeout: float
) -> bytes:
    writer.write(text)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(text)), timeout)


async def _connect_and_send(port: int, text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await _roundtrip(reader, writer, text, 5)


class TestFaultProxy:
    async def test_passes_bytes_through(self, proxy: FaultProxy) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"hello", 5) == b"hello"
        writer.close()

    async def test_adds_latency_per_chunk_each_way(self, proxy: FaultProxy) -> None:
        proxy.set_mode(Mode.LATENCY, latency=0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        started = time.monotonic()
        assert await _roundtrip(reader, writer, b"slow", 10) == b"slow"
        assert time.monotonic() - started >= 0.4
        writer.close()

    async def test_blackhole_holds_traffic_until_it_heals(self, proxy: FaultProxy) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"before", 5) == b"before"
        proxy.set_mode(Mode.BLACKHOLE)
        with pytest.raises(TimeoutError):
            await _roundtrip(reader, writer, b"held", 0.5)
        proxy.set_mode(Mode.PASS)
        assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
        writer.close()

    async def test_reset_closes_open_and_new_connections_with_rst(self, proxy: FaultProxy) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await _roundtrip(reader, writer, b"up", 5) == b"up"
        proxy.set_mode(Mode.RESET)
        with pytest.raises(ConnectionResetError):
            await _roundtrip(reader, writer, b"gone", 5)
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await _connect_and_send(proxy.port, b"new")
        assert proxy.resets >= 2
