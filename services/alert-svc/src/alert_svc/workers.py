"""Background tasks: the webhook delivery worker, the absence sweep and the open-alert gauge."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

import httpx
import structlog
from channel_common import SQLModelSession, utcnow
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

from . import repo, service
from .metrics import ALERTS_OPEN
from .schemas import SEVERITIES
from .service.delivery import claim_due, record_attempt, send
from .service.lifecycle import notify_unsilenced
from .service.notify import DELIVERY_PENDING
from .settings import Settings

__all__ = [
    "deliver_due",
    "refresh_gauge",
    "run_deliveries",
    "run_gauge",
    "run_sweep",
    "sweep_once",
]

log = structlog.get_logger(__name__)
T = TypeVar("T")


async def _uninterrupted(work: Awaitable[T]) -> T:
    """Run `work` to its end even when the task is cancelled (at shutdown), then re-raise:
    a transaction cut off mid-way can leave its connection, and SQLite's write lock, behind."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def deliver_due(
    sessions: async_sessionmaker[SQLModelSession],
    *,
    settings: Settings,
    client: httpx.AsyncClient,
) -> int:
    """Send one batch of due deliveries; returns how many were attempted. The claim commits
    before sending, and each attempt commits on its own, so no send holds a transaction."""
    async with sessions() as session:
        jobs = await claim_due(session, now=utcnow(), settings=settings)
        await session.commit()
    for job in jobs:
        outcome = await send(job, settings=settings, client=client)
        async with sessions() as session:
            await record_attempt(session, job=job, outcome=outcome, settings=settings)
            await session.commit()
    return len(jobs)


async def run_deliveries(app: FastAPI) -> None:
    """Send due webhook deliveries until cancelled: woken by every commit that queued one,
    and every `webhook_poll_seconds` for retries that come due."""
    settings: Settings = app.state.settings
    sessions: async_sessionmaker[SQLModelSession] = app.state.sessions
    wakeup = asyncio.Event()

    def on_commit(session: Session) -> None:
        if session.info.pop(DELIVERY_PENDING, False):
            wakeup.set()

    session_class = sessions.kw["sync_session_class"]
    event.listen(session_class, "after_commit", on_commit)
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while not app.state.shutting_down:
                wakeup.clear()
                try:
                    sent = await _uninterrupted(
                        deliver_due(sessions, settings=settings, client=client)
                    )
                except Exception as exc:
                    log.warning("webhook_worker_failed", error=repr(exc))
                    sent = 0
                if sent < settings.webhook_batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wakeup.wait(), settings.webhook_poll_seconds)
    finally:
        event.remove(session_class, "after_commit", on_commit)


async def sweep_once(sessions: async_sessionmaker[SQLModelSession]) -> None:
    """One absence sweep."""
    now = utcnow()
    async with sessions() as session:
        await service.sweep_absence(session, today=now.date(), now=now)
        await session.commit()


async def refresh_gauge(sessions: async_sessionmaker[SQLModelSession]) -> None:
    """Notify alerts whose silence ended, then set the open-alert gauge from the database
    (right across replicas and restarts)."""
    async with sessions() as session:
        await notify_unsilenced(session, now=utcnow())
        await session.commit()
        counts = await repo.open_alert_counts(session)
    for severity in SEVERITIES:
        ALERTS_OPEN.labels(severity).set(counts.get(severity, 0))


async def run_sweep(app: FastAPI) -> None:
    """Sweep every `sweep_interval_seconds` until cancelled."""
    settings: Settings = app.state.settings
    while not app.state.shutting_down:
        try:
            await _uninterrupted(sweep_once(app.state.sessions))
        except Exception as exc:
            log.warning("absence_sweep_failed", error=repr(exc))
        await asyncio.sleep(settings.sweep_interval_seconds)


async def run_gauge(app: FastAPI) -> None:
    """Refresh the open-alert gauge every `gauge_refresh_seconds` until cancelled."""
    settings: Settings = app.state.settings
    while not app.state.shutting_down:
        try:
            await _uninterrupted(refresh_gauge(app.state.sessions))
        except Exception as exc:
            log.warning("alert_gauge_failed", error=repr(exc))
        await asyncio.sleep(settings.gauge_refresh_seconds)
