"""Fixtures of the fault battery: a PostgreSQL server of its own (to stop in immediate mode)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_common.testing import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, owned by the `postgres` user, on a free
    port; `stop_immediately()` and `start()` keep its data and port."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="battery-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.stops = 0

    @property
    def url(self) -> str:
        """The server's URL for Suite (`postgresql://postgres@127.0.0.1:<port>/postgres`)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        # No pipes: the server inherits them and would keep them open (pg_ctl's -l has its log).
        subprocess.run(  # noqa: S603
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
        )

    def init(self) -> None:
        """Create the cluster (trust authentication on loopback)."""
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres", group="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        """Start (or restart) on the same port; returns once it accepts connections."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=on"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop_immediately(self) -> None:
        """`pg_ctl -m immediate stop`: no shutdown checkpoint, clients cut off at once."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.stops += 1

    def cleanup(self) -> None:
        """Stop the server if it runs and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of the test module's own, removed afterwards whatever happens."""
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()
