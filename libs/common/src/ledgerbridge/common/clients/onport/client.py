"""The Onport (Jetti) REST client (SPEC.md §3.3).

Every request goes through :meth:`OnportClient._call`: a slot from the account's shared leaky bucket
(reads and writes drain the same bucket at different costs, as Onport counts them), the bearer token,
retries for 429/5xx/network failures. Collections page with ``limit``/``from`` until a short page.

Lists "changed since" are walked by ``updatedAt`` rather than by offset alone: an invoice that changes
while we page moves to the end of the order instead of shifting the rest under our feet, so nothing is
skipped (a record that changes mid-walk may be seen twice, which an upsert absorbs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import structlog
from redis.asyncio import Redis

from ledgerbridge.common.clients.onport.models import (
    AccountingIntegration,
    Currency,
    DropshipProvider,
    LandedCost,
    LandedCostCharge,
    OnportRecord,
    Purchase,
    PurchaseInvoice,
    PurchaseInvoiceItem,
    PurchaseInvoicePayment,
    PurchaseItem,
    PurchaseShippingRate,
)
from ledgerbridge.common.clients.partner import (
    AccountBudget,
    PartnerError,
    PartnerPolicy,
    PartnerRequests,
    RateLimit,
    RetryPolicy,
    StaticCredentials,
    limiter_key,
    refusal,
    snippet,
)
from ledgerbridge.common.clients.ratelimit import LeakyBucketLimiter, Sleep

log = structlog.get_logger(__name__)

READ = "read"
WRITE = "write"
DEFAULT_PAGE_SIZE = 100
"""Below the largest page Onport serves (a larger ``limit`` is cut silently, which would end paging early)."""
_IDS_PER_REQUEST = 50


class OnportError(PartnerError):
    """Onport refused a request or answered something we cannot read; the message says which."""


class OnportNotFoundError(OnportError):
    pass


def account_limiter_key(token: str, prefix: str = "ledgerbridge") -> str:
    """The Redis key of one Onport account's bucket; the token names the account, hashed (never stored)."""
    return limiter_key("onport", token, prefix)


def onport_limiter(
    redis: Redis,
    token: str,
    *,
    prefix: str = "ledgerbridge",
    get_per_second: float = 2.0,
    write_per_second: float = 1.0,
    burst_seconds: float = 1.0,
    margin_seconds: float = 0.1,
    max_wait_seconds: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> LeakyBucketLimiter:
    return LeakyBucketLimiter(
        redis,
        account_limiter_key(token, prefix),
        rates={READ: get_per_second, WRITE: write_per_second},
        capacity_seconds=burst_seconds,
        margin_seconds=margin_seconds,
        max_wait_seconds=max_wait_seconds,
        sleep=sleep,
    )


R = TypeVar("R", bound=OnportRecord)
Params = Mapping[str, str | int]


def _stamp(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class OnportClient:
    """One Onport account. ``http`` is shared and owned by the caller; ``limiter`` must use the same Redis
    key for every client of the account (see :func:`onport_limiter`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        limiter: LeakyBucketLimiter,
        *,
        timeout_seconds: float = 30.0,
        max_attempts: int = 4,
        rate_limit_retries: int = 2,
        max_rate_limit_wait_seconds: float = 10.0,
        backoff_base_seconds: float = 0.5,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._page_size = page_size
        policy = PartnerPolicy(
            name="Onport",
            retry=RetryPolicy(
                max_attempts, rate_limit_retries, max_rate_limit_wait_seconds, backoff_base_seconds, sleep
            ),
            rate_limit=_rate_limit,
            refuse=refusal("Onport", "Onport rejected the API token", OnportError, OnportNotFoundError),
            timeout_seconds=timeout_seconds,
        )
        self._requests = PartnerRequests(
            policy,
            http,
            self._base_url,
            StaticCredentials({"Authorization": f"Bearer {token}", "Accept": "application/json"}),
            # Reads and writes drain the same bucket at different costs, as Onport counts them.
            AccountBudget(
                acquire=lambda method: limiter.acquire(READ if method == "GET" else WRITE),
                pause=limiter.pause,
            ),
        )

    def __repr__(self) -> str:
        return f"OnportClient(base_url={self._base_url!r})"

    # -- the one way to talk to Onport -------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, params: Params | None = None, body: Mapping[str, Any] | None = None
    ) -> Any:
        response = await self._requests.send(method, path, params=params, json=body)
        try:
            return response.json()
        except ValueError:
            raise OnportError(
                f"Onport {method} {path} answered a body that is not JSON: {snippet(response)}"
            ) from None

    async def _list(self, resource: str, params: Params) -> list[dict[str, Any]]:
        data = await self._call("GET", f"/{resource}.json", params=params)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise OnportError(f"Onport GET /{resource}.json answered something other than a list of records")
        return data

    async def _one(self, model: type[R], resource: str, record_id: int) -> R:
        data = await self._call("GET", f"/{resource}/{record_id}.json")
        if not isinstance(data, dict) or "id" not in data:
            raise OnportError(
                f"Onport GET /{resource}/{record_id}.json answered something other than a record"
            )
        return model.from_api(data)

    async def pages(
        self, resource: str, where: Mapping[str, str | int] | None = None, *, page_size: int | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a collection, ordered by id, ``where`` as ``{"field": v}`` or
        ``{"field][op": v}`` (sent as ``where[field]=v`` / ``where[field][op]=v``)."""
        size = page_size or self._page_size
        offset = 0
        while True:
            params: dict[str, str | int] = {_where(k): v for k, v in (where or {}).items()}
            params.update({"order[id]": "ASC", "limit": size, "from": offset})
            page = await self._list(resource, params)
            if page:
                yield page
            if len(page) < size:
                return
            offset += len(page)

    async def changed_since(
        self,
        resource: str,
        updated_since: datetime | str | None,
        where: Mapping[str, str | int] | None = None,
        *,
        page_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Records updated at or after ``updated_since`` (all when None), oldest change first.

        Walked by ``updatedAt``: the cursor is the last change seen, plus how many records at exactly
        that instant we have already had (several can share a timestamp)."""
        size = page_size or self._page_size
        cursor = None if updated_since is None else _stamp(updated_since)
        seen_at_cursor = 0
        while True:
            params: dict[str, str | int] = {_where(k): v for k, v in (where or {}).items()}
            if cursor is not None:
                params["where[updatedAt][gte]"] = cursor
            params.update(
                {"order[updatedAt]": "ASC", "order[id]": "ASC", "limit": size, "from": seen_at_cursor}
            )
            page = await self._list(resource, params)
            for record in page:
                yield record
            if len(page) < size:
                return
            last = str(page[-1].get("updatedAt"))
            same = sum(1 for record in page if str(record.get("updatedAt")) == last)
            seen_at_cursor = seen_at_cursor + same if last == cursor else same
            cursor = last

    async def _all(
        self, model: type[R], resource: str, where: Mapping[str, str | int] | None = None
    ) -> list[R]:
        return [model.from_api(r) async for page in self.pages(resource, where) for r in page]

    # -- purchase invoices ------------------------------------------------------------------------

    async def purchase_invoices(
        self, updated_since: datetime | str | None = None, **where: str | int
    ) -> list[PurchaseInvoice]:
        """Invoices changed at or after ``updated_since`` (an idle poll is one request)."""
        return [
            PurchaseInvoice.from_api(r)
            async for r in self.changed_since("purchase-invoices", updated_since, where)
        ]

    async def purchase_invoice(self, invoice_id: int) -> PurchaseInvoice:
        return await self._one(PurchaseInvoice, "purchase-invoices", invoice_id)

    async def purchase_invoice_items(self, invoice_id: int) -> list[PurchaseInvoiceItem]:
        return await self._all(
            PurchaseInvoiceItem, "purchase-invoice-items", {"purchaseInvoiceId": invoice_id}
        )

    async def update_purchase_invoice(self, invoice_id: int, fields: Mapping[str, Any]) -> PurchaseInvoice:
        """Write back what an accounting integration may set (``xeroId``, ``accountingError``…)."""
        data = await self._call("PUT", f"/purchase-invoices/{invoice_id}.json", body=fields)
        if not isinstance(data, dict) or "id" not in data:
            raise OnportError(f"Onport PUT /purchase-invoices/{invoice_id}.json answered no record")
        return PurchaseInvoice.from_api(data)

    async def purchase_invoice_payments(
        self, invoice_id: int | None = None, updated_since: datetime | str | None = None
    ) -> list[PurchaseInvoicePayment]:
        where: dict[str, str | int] = {} if invoice_id is None else {"purchaseInvoiceId": invoice_id}
        return [
            PurchaseInvoicePayment.from_api(r)
            async for r in self.changed_since("purchase-invoice-payments", updated_since, where)
        ]

    async def purchase_shipping_rates(self, invoice_ids: Sequence[int]) -> list[PurchaseShippingRate]:
        """The shipping rates invoiced on these purchase invoices (Onport keeps shipping off the
        invoice), a request per 50 invoices."""
        return await self._all_in(
            PurchaseShippingRate, "purchase-shipping-rates", "purchaseInvoiceId", invoice_ids
        )

    async def landed_cost_charges(
        self, invoice_ids: Sequence[int], invoice_item_ids: Sequence[int] = ()
    ) -> list[LandedCostCharge]:
        """Landed costs on these invoices, then those on their lines (``invoice_item_ids``)."""
        found = await self._all_in(
            LandedCostCharge, "landed-cost-purchase-invoices", "purchaseInvoiceId", invoice_ids
        )
        found += await self._all_in(
            LandedCostCharge, "landed-cost-purchase-invoice-items", "purchaseInvoiceItemId", invoice_item_ids
        )
        return found

    async def _all_in(self, model: type[R], resource: str, field: str, ids: Sequence[int]) -> list[R]:
        found: list[R] = []
        for chunk in _chunks(sorted(set(ids)), _IDS_PER_REQUEST):
            found.extend(await self._all(model, resource, {f"{field}][in": ",".join(map(str, chunk))}))
        return found

    async def landed_cost(self, landed_cost_id: int) -> LandedCost:
        return await self._one(LandedCost, "landed-costs", landed_cost_id)

    # -- purchases --------------------------------------------------------------------------------

    async def purchase(self, purchase_id: int) -> Purchase:
        return await self._one(Purchase, "purchases", purchase_id)

    async def purchase_items(
        self, purchase_id: int | None = None, *, invoice_id: int | None = None
    ) -> list[PurchaseItem]:
        """The items of a purchase, or the purchase items billed on one invoice (an invoice may bill
        part of a purchase; its invoice items say which items and how many)."""
        if (purchase_id is None) == (invoice_id is None):
            raise ValueError("purchase_items needs exactly one of purchase_id and invoice_id")
        if purchase_id is not None:
            return await self._all(PurchaseItem, "purchase-items", {"purchaseId": purchase_id})
        assert invoice_id is not None
        wanted = sorted(
            {i.purchase_item_id for i in await self.purchase_invoice_items(invoice_id) if i.purchase_item_id}
        )
        found: list[PurchaseItem] = []
        for chunk in _chunks(wanted, _IDS_PER_REQUEST):
            found.extend(
                await self._all(PurchaseItem, "purchase-items", {"id][in": ",".join(map(str, chunk))})
            )
        return found

    # -- reference data ---------------------------------------------------------------------------

    async def dropship_providers(self) -> list[DropshipProvider]:
        return await self._all(DropshipProvider, "dropship-providers")

    async def dropship_provider(self, provider_id: int) -> DropshipProvider:
        return await self._one(DropshipProvider, "dropship-providers", provider_id)

    async def currencies(self) -> list[Currency]:
        return await self._all(Currency, "currencies")

    async def check_credentials(self) -> bool:
        """One cheap read proving the token works; :class:`OnportError` (permanent) when it does not."""
        await self._list("currencies", {"limit": 1})
        return True

    # -- the custom accounting integration (push URLs) -------------------------------------------

    async def accounting_integrations(self) -> list[AccountingIntegration]:
        return await self._all(AccountingIntegration, "accounting-integrations")

    async def register_accounting_integration(
        self,
        name: str,
        *,
        dropship_url: str | None,
        replenishment_url: str | None,
        integration_id: int | None = None,
    ) -> AccountingIntegration:
        """Create (or, with ``integration_id``, update) the integration Onport pushes invoices to.
        The URLs carry the connection's secret token, so they are never logged."""
        body = {"name": name, "dropshipEndpoint": dropship_url, "replenishmentEndpoint": replenishment_url}
        if integration_id is None:
            data = await self._call("POST", "/accounting-integrations.json", body=body)
        else:
            data = await self._call("PUT", f"/accounting-integrations/{integration_id}.json", body=body)
        if not isinstance(data, dict) or "id" not in data:
            raise OnportError("Onport answered no accounting integration record")
        return AccountingIntegration.from_api(data)


def _where(key: str) -> str:
    return f"where[{key}]"


def _chunks(values: Sequence[int], size: int) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _rate_limit(response: httpx.Response) -> RateLimit:
    try:
        return RateLimit(max(0.0, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return RateLimit(1.0)
