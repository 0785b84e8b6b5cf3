"""One `wrk` run and what its `--latency` report says: requests, rate, p50/p99, errors."""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["WrkResult", "parse_report", "run_wrk"]

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}  # to milliseconds
WRK_TIMEOUT = "30s"  # a slow answer is a latency to record, not a socket timeout


@dataclass(frozen=True)
class WrkResult:
    """What one run measured (latencies in milliseconds)."""

    requests: int
    req_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors
    client_cpu_s: float  # wrk's own CPU time


def _millis(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)([a-z]+)", text)
    if match is None or match[2] not in UNITS:
        raise ValueError(f"not a wrk duration: {text!r}")
    return round(float(match[1]) * UNITS[match[2]], 3)


def _find(pattern: str, report: str) -> re.Match[str]:
    match = re.search(pattern, report, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk report without {pattern!r}:\n{report}")
    return match


def parse_report(report: str, client_cpu_s: float = 0.0) -> WrkResult:
    """The figures of a `wrk --latency` report."""
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        report,
    )
    return WrkResult(
        requests=int(_find(r"^\s*(\d+) requests in ", report)[1]),
        req_per_s=float(_find(r"^Requests/sec:\s+([\d.]+)", report)[1]),
        p50_ms=_millis(_find(r"^\s+50(?:\.0+)?%\s+(\S+)", report)[1]),
        p99_ms=_millis(_find(r"^\s+99(?:\.0+)?%\s+(\S+)", report)[1]),
        max_ms=_millis(_find(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", report)[1]),
        errors=(int(non_2xx[1]) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
        client_cpu_s=client_cpu_s,
    )


def run_wrk(
    url: str, *, connections: int, seconds: int, headers: Mapping[str, str] | None = None
) -> WrkResult:
    """Run `wrk -t1 -c<connections> -d<seconds>s --latency` against `url`."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk not found: apt-get install wrk (make test installs it)")
    argv = [binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["--timeout", WRK_TIMEOUT]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}) on {url}:\n{done.stderr}{done.stdout}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return parse_report(done.stdout, cpu)
