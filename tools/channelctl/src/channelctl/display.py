"""How channelctl shows things: one rich console, tables of API rows, exact numbers as text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "Column",
    "console",
    "money",
    "percent",
    "short_id",
    "table",
]

Column = tuple[str, Callable[[Mapping[str, Any]], str]]


def console() -> Console:
    """A console on the current stdout (built per use, so captured output is honoured)."""
    return Console(highlight=False, soft_wrap=False)


def table(title: str | None, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> Table:
    """A table with one row per mapping, each cell computed by its column's function."""
    result = Table(title=title, title_justify="left", header_style="bold")
    for name, _ in columns:
        numeric = name.lower() in NUMERIC_HEADERS
        result.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        result.add_row(*(cell(row) for _, cell in columns))
    return result


# Headers whose cells are figures (right-aligned).
NUMERIC_HEADERS = frozenset(
    {
        "amount",
        "accrued",
        "projected",
        "basis",
        "value",
        "to next tier",
        "growth to next tier",
        "total",
        "projected basis",
    }
)


def money(value: Any) -> str:
    """A decimal string as money with thousands separators (`1234567.5` → `1,234,567.50`)."""
    if value is None:
        return "-"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def number(value: Any) -> str:
    """A decimal string with thousands separators and no trailing zeros."""
    if value is None:
        return "-"
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{exact:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: Any) -> str:
    """A ratio as a percentage to one decimal (`0.12549` → `12.5 %`)."""
    if value is None:
        return "-"
    return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} %"


def short_id(value: Any) -> str:
    """The first 8 characters of an id (enough to recognise it; commands take prefixes)."""
    return str(value)[:8] if value else "-"


def tier_label(index: Any) -> str:
    """A program tier index as a 1-based tier number (`-` when no tier is reached)."""
    return "-" if index is None else str(int(index) + 1)
