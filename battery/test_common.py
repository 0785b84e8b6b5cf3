"""The battery's own helpers (they hold at either size)."""

import json

import battery_support
import pytest
from battery_support import report, sized


@pytest.mark.parametrize(("size", "expected"), [("ci", 10), ("soak", 1000)])
def test_sized_picks_the_figure_of_the_runs_size(
    monkeypatch: pytest.MonkeyPatch, size: str, expected: int
) -> None:
    monkeypatch.setattr(battery_support, "SIZE", size)
    assert sized(10, 1000) == expected


def test_report_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    report("X1", lost=0, acknowledged=5)
    line = capsys.readouterr().out
    assert line.startswith("BATTERY ") and line.count("\n") == 1
    assert json.loads(line.removeprefix("BATTERY ")) == {
        "id": "X1",
        "size": battery_support.SIZE,
        "lost": 0,
        "acknowledged": 5,
    }
