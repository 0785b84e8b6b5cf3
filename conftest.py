"""Fixtures for every test in the workspace."""

pytest_plugins = ["channel_common.testing"]
