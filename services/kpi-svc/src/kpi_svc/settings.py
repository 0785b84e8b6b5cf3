"""kpi-svc settings (env prefix `KPI_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of kpi-svc."""

    model_config = SettingsConfigDict(env_prefix="KPI_", extra="ignore", frozen=True)

    service_name: str = "kpi-svc"
    database_url: str = "sqlite+aiosqlite:///.run/kpi.db"
    # A batch of 10,000 observations is about 2 MiB of JSON; leave room for long sources.
    max_body_bytes: int = 8 * 1024 * 1024

    # Every event message stays under this many bytes (NATS max payload is 1 MiB by default).
    event_max_bytes: int = 256 * 1024
    # Lines of a streamed import processed (and validated) together.
    import_chunk_lines: int = 5_000
    # A longer line of an import is rejected as `invalid_line` without being buffered.
    import_max_line_bytes: int = 64 * 1024
    # Rejections listed in one import answer; `rejected_count` still counts them all.
    import_max_listed_rejections: int = 10_000
    # An import holding an Idempotency-Key keeps it this long before a retry may take it over
    # (the suite's `idempotency_lock_seconds` is sized for JSON requests, not for big files).
    import_key_lock_seconds: int = 600
