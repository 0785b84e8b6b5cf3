"""Every script in bench/ runs to the end at a tiny size and prints its JSON line, so a changed
signature breaks `make test`, not the next measurement. Sizes are seconds, not measurements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from suite import server_url_from_env  # noqa: E402

SERVER_URL = server_url_from_env()


def run_bench(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `bench/<script>` as `make bench` does; the JSON object of its last line."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_rebate_run() -> None:
    env = {"BENCH_DATABASE_URL": SERVER_URL} if SERVER_URL else {}
    figures = run_bench("rebate_run.py", "--partners", "40", env=env)
    assert figures["partners"] == 40
    assert figures["first_run_statements"] == figures["rerun_statements"] == 40
    assert figures["first_run_ms"] >= 0 and figures["rerun_ms"] >= 0


def test_alert_latency() -> None:
    database = ["--database-url", SERVER_URL] if SERVER_URL else []
    figures = run_bench("alert_latency.py", "--alerts", "3", "--wait", "30", *database)
    assert figures["missing"] == 0 and figures["bad_signatures"] == 0
    assert figures["p50_ms"] <= figures["max_ms"]


@pytest.mark.skipif(
    SERVER_URL is None,
    reason="the ingest benchmark measures against PostgreSQL's COPY; CI's PostgreSQL pass runs it",
)
def test_ingest() -> None:
    figures = run_bench(
        "ingest.py", "--observations", "300", "--partners", "6", "--batch-size", "100",
        "--connections", "2", "--kpi-workers", "1", "--server-url", str(SERVER_URL),
    )  # fmt: skip
    assert figures["benchmark"] == "ingest" and figures["observations"] == 300
    assert figures["gateway_obs_per_s"] > 0 and figures["raw_copy_obs_per_s"] > 0


def test_http_reads() -> None:
    database = ["--server-url", SERVER_URL] if SERVER_URL else []
    figures = run_bench("http_reads.py", "--connections", "1", "--duration", "1", *database)
    assert figures["benchmark"] == "http_reads" and figures["connections"] == [1]
    assert figures["store"] == ("postgresql" if SERVER_URL else "sqlite")
    assert "http_reads.py --connections 1 --duration 1" in figures["command"]
    reads = ("partner_by_id", "partners_page", "kpi_series")
    expected = [(e, p) for e in reads for p in ("direct", "gateway")] + [("livez", "gateway")]
    assert [(r["endpoint"], r["path"]) for r in figures["rows"]] == expected
    for row in figures["rows"]:
        assert row["req_per_s"] > 0 and row["errors"] == 0, row
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"] and row["over_livez"] > 0, row
        if row["endpoint"] in reads and row["path"] == "gateway":
            assert row["gateway_over_direct"] > 0, row
