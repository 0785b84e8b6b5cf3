"""rebate-svc settings (env prefix `REBATE_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of rebate-svc."""

    model_config = SettingsConfigDict(env_prefix="REBATE_", extra="ignore", frozen=True)

    service_name: str = "rebate-svc"
    database_url: str = "sqlite+aiosqlite:///.run/rebate.db"
