"""Events kpi-svc publishes: subject → model of the event's `data`."""

from pydantic import BaseModel

__all__ = ["PUBLISHED", "SOURCE"]

SOURCE = "urn:channel-suite:kpi-svc"
PUBLISHED: dict[str, type[BaseModel]] = {}
