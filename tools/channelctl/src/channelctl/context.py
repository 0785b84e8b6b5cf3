"""What every command gets from the top-level options: where the gateway is and the key."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import typer

from .client import Gateway, resolve_key

__all__ = ["Options", "State", "gateway", "state"]


@dataclass
class Options:
    """Seams for tests, passed as `CliRunner.invoke(app, …, obj=Options(…))`."""

    transport: httpx.BaseTransport | None = None
    cwd: Path | None = None
    sleep: Callable[[float], None] = time.sleep


@dataclass
class State:
    """The gateway URL and key chosen on the command line or in the environment."""

    url: str
    key: str | None
    options: Options = field(default_factory=Options)

    def gateway(self) -> Gateway:
        """A client of the gateway (the key is resolved now, so `--help` needs none)."""
        return Gateway(
            self.url,
            resolve_key(self.key, cwd=self.options.cwd),
            transport=self.options.transport,
            sleep=self.options.sleep,
        )


def state(ctx: typer.Context) -> State:
    """The State stored by the top-level callback."""
    found = ctx.find_object(State)
    if found is None:  # pragma: no cover - the callback always runs first
        raise RuntimeError("channelctl state missing")
    return found


def gateway(ctx: typer.Context) -> Gateway:
    """A gateway client for the command running in `ctx`."""
    return state(ctx).gateway()
