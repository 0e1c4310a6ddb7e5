"""The ONTRAPORT client as the poller's :class:`TransactionSource`."""

from __future__ import annotations

from typing import Any

from ledgerbridge.common.clients.ontraport.client import OntraportClient
from ledgerbridge.common.clients.ontraport.criteria import field

CONTACT_OBJECT = 0
PAGE = 50


class OntraportSource:
    def __init__(self, client: OntraportClient) -> None:
        self.client = client

    async def transactions_after_or_in(self, mark: int, ids: list[int], limit: int) -> list[dict[str, Any]]:
        condition = field("id").gt(mark)
        if ids:
            condition = condition | field("id").is_in(ids)
        return [transaction.raw for transaction in await self.client.transactions_page(0, limit, condition)]

    async def contacts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), PAGE):
            chunk = ids[start : start + PAGE]
            for record in await self.client.objects_page(CONTACT_OBJECT, 0, PAGE, field("id").is_in(chunk)):
                found[int(record["id"])] = record
        return found

    async def latest_transaction_id(self) -> int | None:
        page = await self.client.transactions_page(0, 1, descending=True)
        return page[0].id if page else None
