"""Money sent as a JSON number stays exact: bodies are never parsed through float."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Api


async def test_a_money_number_beyond_float_precision_is_kept_exactly(api: Api) -> None:
    # 1234567890123456.78 as a float is 1234567890123456.75 (the nearest double).
    body = b'{"registered_capital": 1234567890123456.78, "years_in_business": 3}'
    partner = await api.create()
    response = await api.request(
        "PATCH",
        f"/partners/{partner['id']}",
        content=b'{"qualification": ' + body + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["qualification"]["registered_capital"] == "1234567890123456.78"
