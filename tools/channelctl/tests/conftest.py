"""Fixtures of channelctl's tests: run the CLI in-process against a fake gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from channelctl.cli import app
from channelctl.context import Options
from typer.testing import CliRunner, Result

Handler = Callable[[httpx.Request], httpx.Response]
WIDE: dict[str, str | None] = {"COLUMNS": "200", "CHANNEL_URL": None, "CHANNEL_KEY": None}


def invoke(
    args: list[str],
    handler: Handler | httpx.BaseTransport | None = None,
    *,
    cwd: Path | None = None,
    sleeps: list[float] | None = None,
    env: dict[str, str | None] | None = None,
) -> Result:
    """Run channelctl with `args`; `handler` (a function or a transport) plays the gateway."""
    options = Options(
        transport=(
            handler
            if handler is None or isinstance(handler, httpx.BaseTransport)
            else httpx.MockTransport(handler)
        ),
        cwd=cwd,
        sleep=(sleeps.append if sleeps is not None else time.sleep),
    )
    return CliRunner().invoke(app, args, obj=options, env={**WIDE, **(env or {})})


@pytest.fixture(scope="session")
def cli() -> Callable[..., Result]:
    """`invoke` as a fixture: `cli(["partners", "list"], handler, cwd=tmp_path)`."""
    return invoke
