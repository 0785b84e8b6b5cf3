"""kpi-svc settings (env prefix `KPI_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of kpi-svc."""

    model_config = SettingsConfigDict(env_prefix="KPI_", extra="ignore", frozen=True)

    service_name: str = "kpi-svc"
    database_url: str = "sqlite+aiosqlite:///.run/kpi.db"
