"""alert-svc settings (env prefix `ALERT_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of alert-svc."""

    model_config = SettingsConfigDict(env_prefix="ALERT_", extra="ignore", frozen=True)

    service_name: str = "alert-svc"
    database_url: str = "sqlite+aiosqlite:///.run/alert.db"

    # The absence sweep (other conditions are evaluated as KPI events arrive).
    sweep_interval_seconds: float = 300.0
    gauge_refresh_seconds: float = 15.0
    # Webhook delivery worker.
    allow_loopback_webhooks: bool = False
    webhook_poll_seconds: float = 1.0
    webhook_batch_size: int = 50
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_backoff_base_seconds: float = 5.0
    webhook_backoff_max_seconds: float = 3600.0
    # A claimed delivery is retried after this long if its worker died mid-send.
    webhook_lease_seconds: float = 60.0
