"""partner-svc settings (env prefix `PARTNER_`)."""

from channel_common import BaseServiceSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of partner-svc."""

    model_config = SettingsConfigDict(env_prefix="PARTNER_", extra="ignore", frozen=True)

    service_name: str = "partner-svc"
    database_url: str = "sqlite+aiosqlite:///.run/partner.db"
