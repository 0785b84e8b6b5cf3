"""The battery's own helpers."""

import json

import pytest
from battery_support import report, sized


def test_sized_picks_the_ci_figure_by_default() -> None:
    assert sized(10, 1000) == 10


def test_report_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    report("X1", lost=0, acknowledged=5)
    line = capsys.readouterr().out
    assert line.startswith("BATTERY ") and line.count("\n") == 1
    assert json.loads(line.removeprefix("BATTERY ")) == {
        "id": "X1",
        "size": "ci",
        "lost": 0,
        "acknowledged": 5,
    }
