"""What every battery test shares: its size and the one JSON line of figures it prints."""

import json
import os
import sys
from typing import Any

SIZE = os.environ.get("BATTERY_SIZE", "ci")
if SIZE not in {"ci", "soak"}:
    raise SystemExit(f"BATTERY_SIZE must be 'ci' or 'soak', not {SIZE!r}")


def sized(ci: int, soak: int) -> int:
    """The figure for this run's size: `ci` in `make battery`, `soak` in `make soak`."""
    return soak if SIZE == "soak" else ci


def report(test_id: str, **figures: Any) -> dict[str, Any]:
    """Print the test's figures as one JSON line (`BATTERY {...}`) and return them."""
    line = {"id": test_id, "size": SIZE, **figures}
    sys.stdout.write("BATTERY " + json.dumps(line, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
    return line
