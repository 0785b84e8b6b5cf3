"""The battery's size switch: CI size unless BATTERY_SIZE=soak."""

import os


def test_size_is_known() -> None:
    assert os.environ.get("BATTERY_SIZE", "ci") in {"ci", "soak"}
