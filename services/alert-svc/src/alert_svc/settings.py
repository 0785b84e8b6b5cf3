"""alert-svc settings (env prefix `ALERT_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of alert-svc."""

    model_config = SettingsConfigDict(env_prefix="ALERT_", extra="ignore", frozen=True)

    service_name: str = "alert-svc"
    database_url: str = "sqlite+aiosqlite:///.run/alert.db"
