"""Settings shared by every process; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BaseServiceSettings"]


class BaseServiceSettings(BaseSettings):
    """Infrastructure settings; a subclass sets `env_prefix` (e.g. `PARTNER_`) and defaults."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "service"
    database_url: str = "sqlite+aiosqlite:///.run/service.db"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_connect_timeout_seconds: float = 2.0
    # Replicas of the streams this service declares: 1 on a single server, 3 on a NATS cluster
    # (declared on every start, so an operator's `nats stream edit --replicas` would be undone).
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)

    jwt_key: SecretStr
    # Rotation: the key being replaced, still accepted for verifying (never used to sign).
    jwt_previous_key: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "channel-suite"
    jwt_audience: str = "channel-suite"
    jwt_leeway_seconds: int = 5

    max_body_bytes: int = 2 * 1024 * 1024
    idempotency_ttl_hours: int = 24
    idempotency_lock_seconds: int = 60

    outbox_poll_seconds: float = 1.0
    outbox_batch_size: int = 200
    # Sent events are kept this long (to inspect, or to republish after a broker lost its data).
    outbox_retention_days: int = Field(default=7, ge=1)
    housekeeping_interval_seconds: float = Field(default=3600.0, gt=0)
    # Fault drill only (battery R3): the relay exits the process after publishing a batch and
    # before marking it sent. Never set it in a deployment.
    fault_exit_before_mark_sent: bool = False
    consumer_max_deliver: int = 5
    consumer_ack_wait_seconds: float = 30.0
    consumer_retry_base_seconds: float = 0.5
    consumer_retry_max_seconds: float = 30.0

    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("jwt_previous_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty variable (compose's `${X:-}`) means no previous key, never an empty one."""
        return None if value == "" else value
