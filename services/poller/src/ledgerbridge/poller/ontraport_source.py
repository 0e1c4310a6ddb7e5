"""The ONTRAPORT client as the poller's :class:`TransactionSource`."""

from __future__ import annotations

from typing import Any

from ledgerbridge.common.clients.ontraport.client import OntraportClient
from ledgerbridge.common.clients.ontraport.criteria import Criteria, field

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

    async def purchases(self, transaction_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {transaction_id: [] for transaction_id in transaction_ids}
        for start in range(0, len(transaction_ids), PAGE):
            for purchase in await self.client.purchases_of(transaction_ids[start : start + PAGE]):
                if purchase.invoice_id in found:
                    found[purchase.invoice_id].append(purchase.raw)
        return found

    async def latest_transaction_id(self) -> int | None:
        page = await self.client.transactions_page(0, 1, descending=True)
        return page[0].id if page else None

    async def count_between(self, since: int | None, until: int | None) -> int:
        return await self.client.count_transactions(_dated(since, until))

    async def transactions_between(
        self, after_id: int, since: int | None, until: int | None, limit: int
    ) -> list[dict[str, Any]]:
        condition = field("id").gt(after_id)
        dated = _dated(since, until)
        if dated is not None:
            condition = condition & dated
        return [transaction.raw for transaction in await self.client.transactions_page(0, limit, condition)]

    async def nth_latest_id(self, n: int) -> int | None:
        page = await self.client.transactions_page(n - 1, 1, descending=True)
        return page[0].id if page else None


def _dated(since: int | None, until: int | None) -> Criteria | None:
    parts = [
        *([field("date").gte(since)] if since is not None else []),
        *([field("date").lte(until)] if until is not None else []),
    ]
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition
