"""EventBus: how it declares the suite's streams."""

from __future__ import annotations

from typing import Any

import pytest
from channel_common import STREAMS, BaseServiceSettings, EventBus
from pydantic import ValidationError


class RecordingJetStream:
    """Stands in for nats-py's JetStream context: records the stream configs declared."""

    def __init__(self) -> None:
        self.declared: list[Any] = []

    async def add_stream(self, config: Any) -> None:
        self.declared.append(config)


@pytest.mark.parametrize("replicas", [1, 3])
async def test_streams_are_declared_with_file_storage_and_the_configured_replicas(
    replicas: int,
) -> None:
    bus = EventBus(url="nats://127.0.0.1:1", name="test", stream_replicas=replicas)
    recorder = RecordingJetStream()
    bus._js = recorder  # type: ignore[assignment]
    await bus._declare_streams()
    assert {c.name for c in recorder.declared} == set(STREAMS)
    assert {(c.num_replicas, c.storage.value) for c in recorder.declared} == {(replicas, "file")}


def test_stream_replicas_must_be_between_1_and_5() -> None:
    with pytest.raises(ValidationError):
        BaseServiceSettings(jwt_key="k", nats_stream_replicas=0)  # type: ignore[arg-type]
    assert BaseServiceSettings(jwt_key="k").nats_stream_replicas == 1  # type: ignore[arg-type]


def test_an_empty_previous_jwt_key_means_none() -> None:
    settings = BaseServiceSettings(jwt_key="k", jwt_previous_key="")  # type: ignore[arg-type]
    assert settings.jwt_previous_key is None
