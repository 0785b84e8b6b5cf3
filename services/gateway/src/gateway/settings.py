"""gateway settings (env prefix `GATEWAY_`)."""

from __future__ import annotations

from typing import Annotated

from channel_common import BaseServiceSettings
from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

__all__ = ["API_KEY_PREFIX", "Settings"]

API_KEY_PREFIX = "csk_"


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


class Settings(BaseServiceSettings):
    """Settings of the gateway: where the services are, timeouts, limits and token lifetime."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"
    database_url: str = "sqlite+aiosqlite:///.run/gateway.db"
    # kpi batches of 10,000 items are large; each service enforces its own limit as well.
    max_body_bytes: int = 32 * 1024 * 1024

    partner_url: BaseUrl = "http://127.0.0.1:8001"
    kpi_url: BaseUrl = "http://127.0.0.1:8002"
    rebate_url: BaseUrl = "http://127.0.0.1:8003"
    alert_url: BaseUrl = "http://127.0.0.1:8004"

    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_probe_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)

    token_ttl_seconds: int = Field(default=60, ge=2)
    # How long a verified API key is trusted without asking the database: a key revoked on
    # another replica is refused here within this many seconds (0: ask on every request).
    key_cache_seconds: float = Field(default=1.0, ge=0)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    bootstrap_admin_key: SecretStr | None = None
    openapi_cache_seconds: float = Field(default=60.0, ge=0)

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _looks_like_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret = value.get_secret_value()
            if not secret.startswith(API_KEY_PREFIX) or len(secret) < len(API_KEY_PREFIX) + 16:
                raise ValueError(f"must start with {API_KEY_PREFIX!r} and hold 16+ characters")
        return value

    @property
    def upstream_urls(self) -> dict[str, str]:
        """The base URL of every service the gateway routes to, by service name."""
        return {
            "partner": self.partner_url,
            "kpi": self.kpi_url,
            "rebate": self.rebate_url,
            "alert": self.alert_url,
        }
