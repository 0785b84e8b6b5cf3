"""The NATS JetStream connection: streams, publishing, and durable pull consumers that survive
server restarts.

We use nats-py here rather than FastStream's subscriber: FastStream's pull loop ends on any error
other than a timeout (a consumer lost in a server restart kills it for good) and handles a fetched
batch concurrently, which reorders events of one entity.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError

__all__ = ["STREAMS", "ConsumerSpec", "EventBus"]

STREAMS: dict[str, list[str]] = {
    "PARTNER": ["partner.>"],
    "KPI": ["kpi.>"],
    "REBATE": ["rebate.>"],
    "ALERT": ["alert.>"],
}
DUPLICATE_WINDOW_SECONDS = 120.0
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer: its name, stream, subject filters and message callback."""

    durable: str
    stream: str
    subjects: tuple[str, ...]
    process: Callable[[Msg], Awaitable[None]]
    ack_wait_seconds: float = 30.0
    batch_size: int = 64


class EventBus:
    """One NATS connection per process; connects in the background and keeps retrying."""

    def __init__(
        self, *, url: str, name: str, connect_timeout: float = 2.0, stream_replicas: int = 1
    ) -> None:
        self._url = url
        self._stream_replicas = stream_replicas
        self._name = name
        self._connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._consumers: list[ConsumerSpec] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = asyncio.Event()
        self._generation = 0  # grows at every reconnect; consumers re-subscribe when it moves
        self._closing = False

    @property
    def connected(self) -> bool:
        """Whether the connection is up right now."""
        return self._nc is not None and self._nc.is_connected

    def add_consumer(self, spec: ConsumerSpec) -> None:
        """Register a consumer; it starts once connected."""
        self._consumers.append(spec)

    def start(self) -> None:
        """Connect (retrying until NATS answers), declare streams, start the consumers."""
        self._tasks.append(asyncio.create_task(self._connect_forever(), name="nats-connect"))

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and streams declared."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> api.PubAck:
        """Publish to JetStream and wait for the stream's acknowledgement."""
        if self._js is None or not self.connected:
            raise ConnectionError("NATS is not connected")
        return await self._js.publish(subject, payload, headers=headers, timeout=5.0)

    async def close(self, drain_seconds: float = 5.0) -> None:
        """Let each consumer finish the message in hand, then close the connection.

        Consumers stop at the next message boundary (at most one fetch timeout later); what
        they fetched but did not start is nak'ed for another replica. Whatever is still running
        after `drain_seconds` is cancelled.
        """
        self._closing = True
        consumers = [task for task in self._tasks if task.get_name() != "nats-connect"]
        for task in self._tasks:
            if task not in consumers:
                task.cancel()
        if consumers:
            _, pending = await asyncio.wait(consumers, timeout=drain_seconds)
            for task in pending:
                task.cancel()
        if self._tasks:
            # nats-py's fetch can swallow a cancellation; the loops also watch `_closing`.
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks.clear()
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _connect_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                self._nc = await nats.connect(
                    servers=[self._url],
                    name=self._name,
                    connect_timeout=self._connect_timeout,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    reconnected_cb=self._on_reconnected,
                    disconnected_cb=self._on_disconnected,
                    error_cb=self._on_error,
                )
                break
            except Exception as exc:
                log.warning("nats_connect_failed", url=self._url, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._js = self._nc.jetstream()
        await self._declare_streams()
        self._ready.set()
        log.info("nats_connected", url=self._url)
        for spec in self._consumers:
            self._tasks.append(asyncio.create_task(self._consume(spec), name=spec.durable))

    async def _declare_streams(self) -> None:
        assert self._js is not None
        while True:
            try:
                for name, subjects in STREAMS.items():
                    config = api.StreamConfig(
                        name=name,
                        subjects=subjects,
                        storage=api.StorageType.FILE,
                        duplicate_window=DUPLICATE_WINDOW_SECONDS,
                        num_replicas=self._stream_replicas,
                    )
                    try:
                        await self._js.add_stream(config)
                    except BadRequestError:
                        await self._js.update_stream(config)
                return
            except Exception as exc:
                log.warning("nats_stream_declare_failed", error=str(exc))
                await asyncio.sleep(1.0)

    async def _consume(self, spec: ConsumerSpec) -> None:
        """Fetch and process in order; on any failure (or a reconnect) subscribe afresh."""
        while not self._closing:
            try:
                await self._consume_once(spec)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_restarting", consumer=spec.durable, error=str(exc))
                await asyncio.sleep(1.0)

    async def _consume_once(self, spec: ConsumerSpec) -> None:
        assert self._js is not None
        generation = self._generation
        config = api.ConsumerConfig(
            durable_name=spec.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            # Unlimited at the broker: a fetched batch uses up a delivery of every message in it,
            # so a process killed a few times would make JetStream drop unprocessed messages
            # for good (no effect, no dead letter). The consumer counts failed attempts itself
            # and dead-letters at its `max_deliver` (see idempotent_consumer).
            max_deliver=-1,
            ack_wait=spec.ack_wait_seconds,
            filter_subjects=list(spec.subjects),
            max_ack_pending=10_000,
        )
        try:
            await self._js.add_consumer(spec.stream, config)
        except BadRequestError:
            pass  # exists already (maybe created by another replica)
        sub = await self._js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
        try:
            while generation == self._generation and not self._closing:
                try:
                    messages = await sub.fetch(batch=spec.batch_size, timeout=1.0)
                except TimeoutError:
                    continue
                for message in messages:
                    if self._closing:
                        with contextlib.suppress(Exception):
                            await message.nak()
                        continue
                    await spec.process(message)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _on_reconnected(self) -> None:
        self._generation += 1
        log.info("nats_reconnected", url=self._url)

    async def _on_disconnected(self) -> None:
        log.warning("nats_disconnected", url=self._url)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats_error", error=str(exc))
