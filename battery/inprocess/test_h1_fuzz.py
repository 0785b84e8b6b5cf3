"""H1: schemathesis against every service in-process — all default checks, positive and
negative data — finds no server error and no response-schema violation.

Each operation gets `sized(100, 1000)` generated cases, half schema-valid (positive) and half
schema-invalid (negative), sent with an admin token to the app on a fresh database."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from battery_support import report, sized
from channel_common.testing import bearer
from hypothesis import HealthCheck, Phase
from inprocess.conftest import LONG_TTL
from inprocess.suite import SERVICES, service
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData, Failure, FailureGroup, ServerError
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi

# H1_EXAMPLES overrides the size while exploring a failure; the battery never sets it.
EXAMPLES = int(os.environ.get("H1_EXAMPLES", sized(100, 1000)))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Reported, not failed: business rules refusing schema-valid input (409/422 for an unknown
# parent, a stale If-Match…), and over-long strings that are valid once trimmed.
TOLERATED = ("rejected_valid", "accepted_untrimmed")


def _kind(failure: Failure) -> str:
    """The battery's class of a failed check."""
    if isinstance(failure, ServerError):
        return "server_error"
    if isinstance(failure, AcceptedNegativeData):
        # Names are trimmed before their length is checked: " " + 200 characters is a valid
        # name of 200. The document states the length of the trimmed value.
        violations = [line for line in failure.message.splitlines() if "violates" in line]
        if violations and all("`maxLength`" in line for line in violations):
            return "accepted_untrimmed"
        return "accepted_invalid"
    if isinstance(failure, RejectedPositiveData):
        return "rejected_valid"
    return "response_violation"  # schema, status code, content type, headers, JSON


def _reproduction(case: Any) -> str:
    """The generated request's parts, enough to replay it by hand."""
    parts = {"path": case.path_parameters, "query": case.query, "body": case.body}
    return " ".join(f"{name}={value!r:.300}" for name, value in parts.items() if value)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> Counter[str]:
    """Send `EXAMPLES / 2` generated cases of one operation; failures by kind and detail."""
    found: Counter[str] = Counter()

    @hypothesis.settings(
        max_examples=EXAMPLES // len(MODES),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        found["examples"] += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # in-process, an unhandled error reaches us: a real 500
            found[f"server_error|{operation.label} [{mode.value}] {exc!r:.200}"] += 1
            return
        found[f"status {response.status_code}"] += 1
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                kind = _kind(failure)
                detail = (
                    f"{operation.label} [{mode.value}] {failure.title} → {response.status_code}"
                )
                if kind not in TOLERATED:  # a failure to fix: say how to reproduce it
                    detail += f"\n    {failure.message[:400]}\n    {_reproduction(case)}"
                found[f"{kind}|{detail}"] += 1

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameters, no body): no case.
        found["unsatisfiable"] += 1
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_fuzzing_finds_no_server_error_or_schema_violation(name: str, tmp_path: Path) -> None:
    started = time.monotonic()
    totals: Counter[str] = Counter()
    operations = 0
    with service(name, tmp_path) as svc:
        headers = bearer(svc.settings, ("admin",), subject="battery-admin", ttl_seconds=LONG_TTL)
        schema = schemathesis.openapi.from_asgi("/openapi.json", svc.app)
        # The admin token is always sent, so a "missing Authorization" case would be a lie;
        # unknown query parameters are ignored by design (only bodies are closed).
        schema.config.generation.update(
            allow_extra_parameters=False, with_security_parameters=False
        )
        try:
            for result in schema.get_all_operations():
                operations += 1
                for mode in MODES:
                    totals += _fuzz(result.ok(), mode, headers)
        finally:
            asgi.shutdown_lifespans()
    kinds: Counter[str] = Counter()
    for key, count in totals.items():
        if "|" in key:
            kinds[key.split("|")[0]] += count
    server_errors = sum(n for k, n in totals.items() if k.startswith("status 5"))
    figures = report(
        "H1",
        service=name,
        operations=operations,
        examples=totals["examples"],
        examples_per_operation=EXAMPLES,
        server_errors=server_errors + kinds["server_error"],
        response_violations=kinds["response_violation"],
        accepted_invalid=kinds["accepted_invalid"],
        rejected_valid=kinds["rejected_valid"],
        no_negative_case=totals["unsatisfiable"],
        accepted_untrimmed=kinds["accepted_untrimmed"],
        seconds=round(time.monotonic() - started, 1),
    )
    problems = sorted(k for k in totals if "|" in k and not k.startswith(TOLERATED))
    assert not problems, "\n".join(f"{totals[k]} x {k}" for k in problems)
    assert figures["operations"] > 0 and figures["examples"] >= figures["operations"]
