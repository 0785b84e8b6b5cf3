"""What the benchmarks share: the suite as processes (scripts/suite.py) and a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from suite import PREFIXES, Suite, SuiteOptions

__all__ = [
    "DEFAULT_SERVER_URL",
    "PREFIXES",
    "Suite",
    "SuiteOptions",
    "expect",
    "handle_termination",
]

DEFAULT_SERVER_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class TerminatedError(KeyboardInterrupt):
    """SIGTERM, turned into the same clean-up path as Ctrl-C."""


def handle_termination() -> None:
    """Make SIGTERM unwind like Ctrl-C, so `finally` blocks stop processes and drop databases."""

    def raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise TerminatedError

    signal.signal(signal.SIGTERM, raise_interrupt)


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON answer, or a clear failure."""
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} → "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()
