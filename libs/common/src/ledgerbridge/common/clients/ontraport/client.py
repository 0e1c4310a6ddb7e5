"""The ONTRAPORT REST client (SPEC.md §3.2): credentials, envelope and paging.

Every request goes through :meth:`OntraportClient._call`: the shared request loop (``partner.py``) takes a
slot from the account's limiter (``limits.py``), sends ``Api-Appid``/``Api-Key`` and retries what is worth
retrying under ONTRAPORT's policy; ``_call`` then unwraps
``{"code":0,"data":…,"account_id":…}``. Collections are read in pages of at most 50 (ONTRAPORT serves
no more, silently) and walked by ``id`` ("id > last seen") rather than by offset, so records added while
we page neither shift nor repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog

from ledgerbridge.common.clients.ontraport.criteria import Criteria, condition_param, field
from ledgerbridge.common.clients.ontraport.limits import account_budget, rate_limit
from ledgerbridge.common.clients.ontraport.models import (
    AccountCheck,
    Contact,
    Coupon,
    CouponCode,
    Gateway,
    OntraportRecord,
    Product,
    Purchase,
    ShippingMethod,
    Tax,
    Transaction,
    TransactionOrder,
    TransactionsInfo,
    Webhook,
)
from ledgerbridge.common.clients.partner import (
    PartnerError,
    PartnerPolicy,
    PartnerRequests,
    RetryPolicy,
    StaticCredentials,
    refusal,
    snippet,
)
from ledgerbridge.common.clients.ratelimit import RollingWindowLimiter, Sleep

log = structlog.get_logger(__name__)

MAX_RANGE = 50
"""ONTRAPORT serves at most 50 records per request, whatever ``range`` asks for."""


class ObjectType:
    """ONTRAPORT object type ids (``specs/ontraport/object-type-ids.json``) of the objects we read."""

    CONTACT = 0
    PRODUCT = 16
    PURCHASE = 17
    TRANSACTION = 46
    TAX = 63
    SHIPPING_METHOD = 64
    GATEWAY = 70
    COUPON = 123
    COUPON_CODE = 124


class OntraportError(PartnerError):
    """ONTRAPORT refused a request, or answered something we cannot read; the message says which."""


class OntraportNotFoundError(OntraportError):
    pass


R = TypeVar("R", bound=OntraportRecord)


def _unix(moment: datetime | int) -> int:
    return moment if isinstance(moment, int) else int(moment.timestamp())


class OntraportClient:
    """One ONTRAPORT account. ``http`` is shared and owned by the caller; ``limiter`` must be the same
    Redis key for every client of the account (see :func:`ontraport_limiter`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        app_id: str,
        api_key: str,
        limiter: RollingWindowLimiter,
        *,
        timeout_seconds: float = 30.0,
        max_attempts: int = 4,
        max_rate_limit_wait_seconds: float = 30.0,
        rate_limit_retries: int = 2,
        backoff_base_seconds: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        policy = PartnerPolicy(
            name="ONTRAPORT",
            retry=RetryPolicy(
                max_attempts, rate_limit_retries, max_rate_limit_wait_seconds, backoff_base_seconds, sleep
            ),
            rate_limit=rate_limit,
            refuse=refusal(
                "ONTRAPORT", "ONTRAPORT rejected the API credentials", OntraportError, OntraportNotFoundError
            ),
            timeout_seconds=timeout_seconds,
        )
        self._requests = PartnerRequests(
            policy,
            http,
            self._base_url,
            StaticCredentials({"Api-Appid": app_id, "Api-Key": api_key, "Accept": "application/json"}),
            account_budget(limiter),
        )
        self.account_id: str | None = None
        """The account id from the last envelope (ONTRAPORT tells us whose data we read)."""

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        return f"OntraportClient(base_url={self._base_url!r}, account_id={self.account_id!r})"

    # -- the one way to talk to ONTRAPORT ----------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        response = await self._requests.send(method, path, params=params, data=form)
        return self._unwrap(f"{method} {path}", response)

    def _unwrap(self, what: str, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            raise OntraportError(
                f"ONTRAPORT {what} answered {response.status_code} with a body that is not JSON: "
                f"{snippet(response)}",
                response.status_code,
            ) from None
        if not isinstance(body, dict) or "code" not in body:
            raise OntraportError(
                f"ONTRAPORT {what} answered without the code/data envelope: {snippet(response)}",
                response.status_code,
            )
        if str(body["code"]) != "0":
            message = body.get("message") or body.get("data") or ""
            raise OntraportError(
                f"ONTRAPORT {what} answered code {body['code']} instead of 0: {str(message)[:200]}",
                response.status_code,
            )
        if "data" not in body:
            raise OntraportError(f"ONTRAPORT {what} answered code 0 without data", response.status_code)
        if body.get("account_id") is not None:
            self.account_id = str(body["account_id"])
        return body["data"]

    def _records(self, what: str, data: Any) -> list[dict[str, Any]]:
        # An empty collection is sometimes ``{}`` or ``""`` rather than ``[]``.
        if data in ({}, "", None):
            return []
        if isinstance(data, dict):
            data = list(data.values())
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise OntraportError(f"ONTRAPORT {what} answered data that is not a list of records")
        return data

    def _record(self, what: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or "id" not in data:
            raise OntraportError(f"ONTRAPORT {what} answered data that is not one record")
        return data

    # -- transactions -----------------------------------------------------------------------------

    async def transactions_page(
        self,
        start: int = 0,
        range: int = MAX_RANGE,  # ONTRAPORT's own name for the page size
        condition: Criteria | str | None = None,
        *,
        sort: str = "id",
        descending: bool = False,
    ) -> list[Transaction]:
        """One page of ``GET /Transactions`` (``range`` is capped at 50: ONTRAPORT serves no more)."""
        params: dict[str, str | int] = {
            "start": max(0, start),
            "range": _page_size(range),
            "sort": sort,
            "sortDir": "desc" if descending else "asc",
        }
        rendered = condition_param(condition)
        if rendered is not None:
            params["condition"] = rendered
        data = await self._call("GET", "/Transactions", params=params)
        return [Transaction.from_api(r) for r in self._records("GET /Transactions", data)]

    async def transactions_after(self, high_water_id: int, limit: int = MAX_RANGE) -> list[Transaction]:
        """Transactions with ``id`` above the mark, oldest first, at most ``limit`` (≤ 50): one request,
        so an idle poll costs exactly one call."""
        return await self.transactions_page(0, limit, field("id").gt(high_water_id))

    async def count_transactions(self, condition: Criteria | str | None = None) -> int:
        return (await self.transactions_info(condition)).count

    async def transactions_info(self, condition: Criteria | str | None = None) -> TransactionsInfo:
        params: dict[str, str | int] = {}
        rendered = condition_param(condition)
        if rendered is not None:
            params["condition"] = rendered
        data = await self._call("GET", "/Transactions/getInfo", params=params)
        if not isinstance(data, dict) or "count" not in data:
            raise OntraportError("ONTRAPORT GET /Transactions/getInfo answered without a count")
        return TransactionsInfo.model_validate(data)

    async def iter_transactions(
        self, condition: Criteria | None = None, *, after_id: int = 0, page_size: int = MAX_RANGE
    ) -> AsyncIterator[Transaction]:
        """Every transaction matching ``condition`` with ``id`` above ``after_id``, in id order."""
        last = after_id
        size = _page_size(page_size)
        while True:
            keyset = field("id").gt(last)
            page = await self.transactions_page(0, size, keyset if condition is None else keyset & condition)
            for transaction in page:
                yield transaction
            if len(page) < size:
                return
            last = max(t.id for t in page)

    def transactions_between(
        self, date_from: datetime | int, date_to: datetime | int, *, page_size: int = MAX_RANGE
    ) -> AsyncIterator[Transaction]:
        """Transactions dated from ``date_from`` to ``date_to`` inclusive (datetimes or unix seconds)."""
        window = field("date").gte(_unix(date_from)) & field("date").lte(_unix(date_to))
        return self.iter_transactions(window, page_size=page_size)

    async def transaction(self, transaction_id: int) -> Transaction:
        data = await self._call("GET", "/Transaction", params={"id": transaction_id})
        return Transaction.from_api(self._record("GET /Transaction", data))

    async def transaction_order(self, transaction_id: int) -> TransactionOrder:
        data = await self._call("GET", "/Transaction/Order", params={"id": transaction_id})
        if not isinstance(data, dict):
            raise OntraportError("ONTRAPORT GET /Transaction/Order answered data that is not an order")
        return TransactionOrder.from_api(data)

    # -- other objects ----------------------------------------------------------------------------

    async def objects_page(
        self,
        object_id: int,
        start: int = 0,
        range: int = MAX_RANGE,  # ONTRAPORT's own name for the page size
        condition: Criteria | str | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {
            "objectID": object_id,
            "start": max(0, start),
            "range": _page_size(range),
            "sort": "id",
            "sortDir": "asc",
        }
        rendered = condition_param(condition)
        if rendered is not None:
            params["condition"] = rendered
        return self._records("GET /objects", await self._call("GET", "/objects", params=params))

    async def objects(
        self, object_id: int, condition: Criteria | None = None, *, page_size: int = MAX_RANGE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of one object type (``GET /objects?objectID=``), walked by id."""
        last = -1
        size = _page_size(page_size)
        while True:
            keyset = field("id").gt(last)
            page = await self.objects_page(
                object_id, 0, size, keyset if condition is None else keyset & condition
            )
            for record in page:
                yield record
            if len(page) < size:
                return
            last = max(int(record["id"]) for record in page)

    async def _all(self, model: type[R], object_id: int) -> list[R]:
        return [model.from_api(record) async for record in self.objects(object_id)]

    async def products(self) -> list[Product]:
        return await self._all(Product, ObjectType.PRODUCT)

    async def taxes(self) -> list[Tax]:
        return await self._all(Tax, ObjectType.TAX)

    async def shipping_methods(self) -> list[ShippingMethod]:
        return await self._all(ShippingMethod, ObjectType.SHIPPING_METHOD)

    async def coupons(self) -> list[Coupon]:
        return await self._all(Coupon, ObjectType.COUPON)

    async def coupon_codes(self) -> list[CouponCode]:
        return await self._all(CouponCode, ObjectType.COUPON_CODE)

    async def gateways(self) -> list[Gateway]:
        return await self._all(Gateway, ObjectType.GATEWAY)

    async def purchases_of(self, transaction_ids: Sequence[int]) -> list[Purchase]:
        """The Purchase objects of these transactions (``invoice_id`` in the ids), walked by id: one
        request per 50 purchases."""
        if not transaction_ids:
            return []
        condition = field("invoice_id").is_in(sorted(set(transaction_ids)))
        return [Purchase.from_api(record) async for record in self.objects(ObjectType.PURCHASE, condition)]

    async def contact(self, contact_id: int) -> Contact:
        data = await self._call("GET", "/object", params={"objectID": ObjectType.CONTACT, "id": contact_id})
        return Contact.from_api(self._record("GET /object", data))

    # -- webhooks ---------------------------------------------------------------------------------

    async def subscribe_webhook(self, url: str, event: str, data: str | None = None) -> Webhook:
        """``POST /Webhook/subscribe`` (form-encoded, as ONTRAPORT expects). ``url`` carries the
        connection's secret token, so it is never logged."""
        form = {"url": url, "event": event}
        if data is not None:
            form["data"] = data
        answer = await self._call("POST", "/Webhook/subscribe", form=form)
        return Webhook.from_api(self._record("POST /Webhook/subscribe", answer))

    async def unsubscribe_webhook(self, webhook_id: int) -> None:
        await self._call("DELETE", "/Webhook/unsubscribe", form={"id": str(webhook_id)})

    async def webhooks(self) -> list[Webhook]:
        found: list[Webhook] = []
        start = 0
        while True:
            data = await self._call("GET", "/Webhooks", params={"start": start, "range": MAX_RANGE})
            page = self._records("GET /Webhooks", data)
            found.extend(Webhook.from_api(r) for r in page)
            if len(page) < MAX_RANGE:
                return found
            start += len(page)

    # -- setup ------------------------------------------------------------------------------------

    async def check_credentials(self) -> AccountCheck:
        """One cheap call proving the credentials work; :class:`OntraportError` (permanent) when they
        do not. Answers the account id and how many transactions a historical import would read."""
        info = await self.transactions_info()
        return AccountCheck(account_id=self.account_id, transactions=info.count)


def _page_size(requested: int) -> int:
    return max(1, min(requested, MAX_RANGE))
