"""Webhook registration (SSRF-checked, Standard Webhooks secret) and the delivery log."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime

from channel_common import (
    NotFoundError,
    Page,
    PageParams,
    Principal,
    SQLModelSession,
    ValidationFailedError,
    decode_keyset,
    keyset_page,
    next_cursor,
    refuse_partner_bound,
    utcnow,
)

from .. import repo
from ..models import Webhook
from ..netguard import UnsafeTargetError, resolve_safe
from ..schemas import DeliveryAttemptRead, DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead
from .views import webhook_read

__all__ = [
    "create_webhook",
    "delete_webhook",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "new_secret",
]


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_secret(secret: str) -> None:
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if len(key) < 24:
        raise ValidationFailedError(
            "The secret must be whsec_ + base64 of 24 to 64 random bytes.",
            errors=[{"loc": ["body", "secret"], "msg": "not a valid whsec_ secret"}],
        )


async def create_webhook(
    session: SQLModelSession, *, data: WebhookCreate, actor: Principal, allow_loopback: bool
) -> WebhookCreated:
    """Register a receiver; its URL must resolve to public addresses only (422)."""
    refuse_partner_bound(actor, "manage webhooks")
    url = data.url
    if url.username or url.password:
        raise _bad_url("credentials in the URL are not allowed")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        host = (url.host or "").strip("[]")  # an IPv6 literal comes bracketed
        await resolve_safe(host, port, allow_loopback=allow_loopback)
    except UnsafeTargetError as exc:
        raise _bad_url(str(exc)) from exc
    secret = data.secret or new_secret()
    _check_secret(secret)
    webhook = Webhook(
        url=str(url),
        secret=secret,
        events=sorted(set(data.events)),
        min_severity=data.min_severity,
        created_at=utcnow(),
    )
    session.add(webhook)
    await session.flush()
    return WebhookCreated.model_validate({**webhook_read(webhook).model_dump(), "secret": secret})


def _bad_url(reason: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"The webhook URL is refused: {reason}.",
        errors=[{"loc": ["body", "url"], "msg": reason}],
    )


async def list_webhooks(
    session: SQLModelSession, *, params: PageParams, principal: Principal
) -> Page[WebhookRead]:
    """A page of webhooks, oldest first (secrets never shown again)."""
    refuse_partner_bound(principal, "read webhooks")
    after = decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID)
    rows = await repo.webhooks_page(session, after=after, limit=params.fetch_limit)
    return keyset_page(
        rows,
        limit=params.limit,
        key=lambda row: [row.created_at.isoformat(), str(row.id)],
        item=webhook_read,
    )


async def _webhook(session: SQLModelSession, webhook_id: uuid.UUID) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFoundError("Webhook not found.")
    return webhook


async def get_webhook(
    session: SQLModelSession, *, webhook_id: uuid.UUID, principal: Principal
) -> WebhookRead:
    """One webhook (404 when unknown), without its secret."""
    refuse_partner_bound(principal, "read webhooks")
    return webhook_read(await _webhook(session, webhook_id))


async def delete_webhook(
    session: SQLModelSession, *, webhook_id: uuid.UUID, actor: Principal
) -> None:
    """Remove a webhook and its delivery log; pending deliveries are dropped."""
    refuse_partner_bound(actor, "manage webhooks")
    await _webhook(session, webhook_id)
    await repo.delete_webhook(session, webhook_id=webhook_id)


async def list_deliveries(
    session: SQLModelSession, *, webhook_id: uuid.UUID, params: PageParams, principal: Principal
) -> Page[DeliveryRead]:
    """A page of a webhook's deliveries, newest first, each with its attempts."""
    refuse_partner_bound(principal, "read webhooks")
    await _webhook(session, webhook_id)
    after = decode_keyset(params.cursor, datetime.fromisoformat, uuid.UUID)
    rows = await repo.deliveries_page(
        session, webhook_id=webhook_id, after=after, limit=params.fetch_limit
    )
    page = rows[: params.limit]
    attempts = await repo.attempts_of(session, delivery_ids=[d.id for d in page])
    items = [
        DeliveryRead.model_validate(
            {
                **d.model_dump(exclude={"attempts", "payload", "webhook_id"}),
                "next_attempt_at": d.next_attempt_at if d.state == "pending" else None,
                "attempts": [
                    DeliveryAttemptRead.model_validate(a, from_attributes=True)
                    for a in attempts[d.id]
                ],
            }
        )
        for d in page
    ]
    cursor = next_cursor(
        rows, limit=params.limit, key=lambda row: [row.created_at.isoformat(), str(row.id)]
    )
    return Page[DeliveryRead](items=items, next_cursor=cursor)
