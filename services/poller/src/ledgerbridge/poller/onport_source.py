"""What the poller needs from Onport, as a protocol, and the Onport client as that protocol.

The poll asks for invoices changed since a mark, then for each changed invoice the pieces a bill is
built from. Raw records (``.raw``) are what gets stored, so the mapper works on exactly what Onport said.
"""

from __future__ import annotations

from typing import Any, Protocol

from ledgerbridge.common.clients.onport import OnportClient


class PurchaseInvoiceSource(Protocol):
    async def invoices_changed_since(self, since: str, limit: int) -> list[dict[str, Any]]:
        """Invoices with ``updatedAt`` at or after ``since``, oldest change first, at most ``limit``.

        Nothing changed costs one request (the first page comes back empty or with only known changes).
        """
        ...

    async def invoice(self, invoice_id: int) -> dict[str, Any]:
        """One purchase invoice by id (a push asked for it); ``OnportNotFoundError`` when Onport has none."""
        ...

    async def invoice_items(self, invoice_id: int) -> list[dict[str, Any]]: ...

    async def purchase(self, purchase_id: int) -> dict[str, Any]: ...

    async def purchase_items(self, purchase_id: int) -> list[dict[str, Any]]:
        """Every item of the purchase: one request serves all the invoices a purchase was billed in."""
        ...

    async def vendor(self, vendor_id: int) -> dict[str, Any]: ...

    async def payments(self, invoice_id: int) -> list[dict[str, Any]]: ...

    async def shipping_rates(self, invoice_ids: list[int]) -> list[dict[str, Any]]:
        """The invoices' ``/purchase-shipping-rates`` (shipping is not on the invoice), in bulk."""
        ...

    async def landed_costs(self, invoice_ids: list[int], invoice_item_ids: list[int]) -> list[dict[str, Any]]:
        """Landed costs on the invoices and on their lines (rows of both collections), in bulk."""
        ...

    async def landed_cost(self, landed_cost_id: int) -> dict[str, Any]: ...

    async def invoices_after(self, after_id: int, where: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """For imports: one page of invoices above an id, in id order, matching ``where``."""
        ...

    async def invoice_ids(self, where: dict[str, str]) -> list[int]: ...


class OnportSource:
    def __init__(self, client: OnportClient) -> None:
        self.client = client

    async def invoices_changed_since(self, since: str, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if limit <= 0:
            return found
        # The client walks pages lazily: stopping at ``limit`` leaves the next page unrequested.
        async for invoice in self.client.changed_since("purchase-invoices", since):
            found.append(invoice)
            if len(found) >= limit:
                break
        return found

    async def invoice(self, invoice_id: int) -> dict[str, Any]:
        return (await self.client.purchase_invoice(invoice_id)).raw

    async def invoice_items(self, invoice_id: int) -> list[dict[str, Any]]:
        return [item.raw for item in await self.client.purchase_invoice_items(invoice_id)]

    async def purchase(self, purchase_id: int) -> dict[str, Any]:
        return (await self.client.purchase(purchase_id)).raw

    async def purchase_items(self, purchase_id: int) -> list[dict[str, Any]]:
        return [item.raw for item in await self.client.purchase_items(purchase_id)]

    async def vendor(self, vendor_id: int) -> dict[str, Any]:
        return (await self.client.dropship_provider(vendor_id)).raw

    async def payments(self, invoice_id: int) -> list[dict[str, Any]]:
        return [payment.raw for payment in await self.client.purchase_invoice_payments(invoice_id=invoice_id)]

    async def shipping_rates(self, invoice_ids: list[int]) -> list[dict[str, Any]]:
        return [rate.raw for rate in await self.client.purchase_shipping_rates(invoice_ids)]

    async def landed_costs(self, invoice_ids: list[int], invoice_item_ids: list[int]) -> list[dict[str, Any]]:
        return [cost.raw for cost in await self.client.landed_cost_charges(invoice_ids, invoice_item_ids)]

    async def landed_cost(self, landed_cost_id: int) -> dict[str, Any]:
        return (await self.client.landed_cost(landed_cost_id)).raw

    async def invoices_after(self, after_id: int, where: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """One page of invoices with an id above ``after_id`` (id order) matching ``where``."""
        async for page in self.client.pages(
            "purchase-invoices", {**where, "id][gt": after_id}, page_size=limit
        ):
            return page
        return []

    async def invoice_ids(self, where: dict[str, str]) -> list[int]:
        """The ids of every invoice matching ``where``, ascending (Onport has no count endpoint)."""
        return [int(r["id"]) async for page in self.client.pages("purchase-invoices", where) for r in page]
