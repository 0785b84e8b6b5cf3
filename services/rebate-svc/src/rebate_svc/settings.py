"""rebate-svc settings (env prefix `REBATE_`)."""

from datetime import date

from channel_common import BaseServiceSettings, today
from pydantic_settings import SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseServiceSettings):
    """Settings of rebate-svc."""

    model_config = SettingsConfigDict(env_prefix="REBATE_", extra="ignore", frozen=True)

    service_name: str = "rebate-svc"
    database_url: str = "sqlite+aiosqlite:///.run/rebate.db"
    # rebate-svc does not see KPI definitions: these are the `sum` KPIs a volume basis may use.
    volume_kpis: tuple[str, ...] = ("sales_amount", "units_sold")
    # Pins "today" for the open accrual period only (the e2e story); else the suite's clock.
    fixed_today: date | None = None
    accrual_event_chunk: int = 500

    def today(self) -> date:
        """Today in UTC by the suite's clock (or the pinned day)."""
        return self.fixed_today or today()
