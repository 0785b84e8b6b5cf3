"""Webhook delivery steps: claim due deliveries from the durable queue, send one outside any
transaction, signed per Standard Webhooks, and log the attempt; failures are retried with
capped exponential backoff. `workers.deliver_due` runs them, each step in its own transaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from channel_common import SQLModelSession, utcnow

from .. import repo
from ..metrics import WEBHOOK_DELIVERIES
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from ..netguard import UnsafeTargetError, resolve_safe
from ..settings import Settings

__all__ = ["DeliveryJob", "Outcome", "claim_due", "record_attempt", "send", "sign"]

log = structlog.get_logger(__name__)


def sign(secret: str, *, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed delivery: what to send where, read before the transaction ends."""

    delivery_id: uuid.UUID
    url: str
    secret: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """How one send went."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry: bool

    @property
    def delivered(self) -> bool:
        return self.error is None


async def claim_due(
    session: SQLModelSession, *, now: datetime, settings: Settings
) -> list[DeliveryJob]:
    """Lease one batch of due deliveries (locked against other workers) and return them."""
    due = await repo.claim_due_deliveries(session, now=now, limit=settings.webhook_batch_size)
    jobs: list[DeliveryJob] = []
    for delivery in due:
        webhook = await session.get(Webhook, delivery.webhook_id)
        if webhook is None:
            continue
        # A lease: if this worker dies mid-send, the delivery is due again later.
        delivery.next_attempt_at = now + timedelta(seconds=settings.webhook_lease_seconds)
        jobs.append(DeliveryJob(delivery.id, webhook.url, webhook.secret, delivery.payload))
    await session.flush()
    return jobs


async def send(job: DeliveryJob, *, settings: Settings, client: httpx.AsyncClient) -> Outcome:
    """POST the delivery to its URL, once, if the address is safe."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        # A stored URL httpx cannot parse (e.g. an octal host) fails this delivery alone.
        url = httpx.URL(job.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve_safe(
            url.host, port, allow_loopback=settings.allow_loopback_webhooks
        )
    except httpx.InvalidURL as exc:
        return Outcome(None, f"refused: invalid URL ({exc})", took(), retry=False)
    except UnsafeTargetError as exc:
        return Outcome(None, f"refused: {exc}", took(), retry=False)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "host": url.netloc.decode(),
        "user-agent": "channel-suite-alert-svc",
        "webhook-id": str(job.delivery_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            job.secret, msg_id=str(job.delivery_id), timestamp=timestamp, body=job.body
        ),
    }
    # Connect to the address we checked, not to whatever the name resolves to next time.
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    try:
        response = await client.post(
            url.copy_with(host=address),
            content=job.body.encode(),
            headers=headers,
            extensions=extensions,
        )
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:1000], took(), retry=True)
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None, took(), retry=False)
    return Outcome(response.status_code, f"HTTP {response.status_code}", took(), retry=True)


def _backoff(attempts: int, settings: Settings) -> timedelta:
    seconds = settings.webhook_backoff_base_seconds * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.webhook_backoff_max_seconds))


async def record_attempt(
    session: SQLModelSession, *, job: DeliveryJob, outcome: Outcome, settings: Settings
) -> None:
    """Log the attempt and move the delivery on: delivered, due again later, or failed."""
    delivery = await session.get(WebhookDelivery, job.delivery_id)
    if delivery is None:  # the webhook was deleted meanwhile
        return
    now: datetime = utcnow()
    delivery.attempts += 1
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    delivery.last_status, delivery.last_error = outcome.status_code, outcome.error
    if outcome.delivered:
        delivery.state, delivery.delivered_at, result = "delivered", now, "delivered"
    elif outcome.retry and delivery.attempts < settings.webhook_max_attempts:
        delivery.next_attempt_at, result = now + _backoff(delivery.attempts, settings), "retry"
    else:
        delivery.state = "failed"
        result = "failed" if outcome.retry else "refused"
    WEBHOOK_DELIVERIES.labels(result).inc()
    log.info(
        "webhook_delivery_attempt",
        delivery_id=str(delivery.id),
        webhook_id=str(delivery.webhook_id),
        event_type=delivery.event_type,
        attempt=delivery.attempts,
        status_code=outcome.status_code,
        result=result,
        error=outcome.error,
    )
