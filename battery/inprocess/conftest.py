"""Fixtures of the in-process battery: the services on fresh databases, started in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from channel_common.testing import app_client
from inprocess.network import Wire, install_fake_network
from inprocess.suite import Service, service

# Tokens for tests that run for minutes (soak size runs for hours).
LONG_TTL = 6 * 3600
Started = Callable[..., contextlib.AbstractAsyncContextManager[tuple[Service, httpx.AsyncClient]]]


@pytest.fixture
def started(tmp_path: Path) -> Started:
    """`async with started("partner", **settings) as (svc, client)`: a running service."""

    @contextlib.asynccontextmanager
    async def start(
        name: str, **overrides: Any
    ) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        # Migrations run their own event loop: build the database in a thread.
        managed = service(name, folder, **overrides)
        svc = await asyncio.to_thread(managed.__enter__)
        try:
            async with app_client(svc.app) as client:
                yield svc, client
        finally:
            await asyncio.to_thread(managed.__exit__, None, None, None)

    return start


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    """The fake network (see `inprocess.network`) for this test."""
    return install_fake_network(monkeypatch)
