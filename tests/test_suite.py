"""scripts/suite.py: the suite as processes, on SQLite or the test PostgreSQL server."""

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from suite import Suite, SuiteOptions, server_url_from_env


@pytest.fixture(scope="module")
def suite() -> Iterator[Suite]:
    options = SuiteOptions(services=("partner", "kpi", "gateway"), server_url=server_url_from_env())
    with Suite(options) as running:
        yield running
        temp, process = running.temp, running.processes["partner"]
    assert process.poll() is not None, "close() stops every process"
    assert not temp.exists(), "close() removes the temporary folder"


def test_server_url_from_env_plain_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_DB", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    assert server_url_from_env("X_DB") == "postgresql://postgres@127.0.0.1:5432/postgres"
    monkeypatch.setenv("X_DB", "sqlite+aiosqlite:///x.db")
    with pytest.raises(ValueError, match="postgresql"):
        server_url_from_env("X_DB")
    monkeypatch.delenv("X_DB")
    assert server_url_from_env("X_DB") is None


async def test_a_killed_service_comes_back_with_its_data(suite: Suite) -> None:
    async with suite.client() as client:
        created = await client.post(
            "/api/v1/partners",
            json={"code": "SUITE-1", "name": "Suite test", "type": "distributor", "region": "CN"},
        )
        assert created.status_code == 201, created.text
        suite.kill("partner", signal.SIGKILL)
        with pytest.raises(httpx.HTTPError):
            await client.get(f"http://127.0.0.1:{suite.ports['partner']}/livez", timeout=1)
        suite.start("partner")
        again = await client.get(f"/api/v1/partners/{created.json()['id']}")
        assert again.status_code == 200
        assert again.json()["code"] == "SUITE-1"
