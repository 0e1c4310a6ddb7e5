"""Reading reference data from the caches, and re-reading it from Xero or ONTRAPORT on request.

Xero's accounting data lives in ``XeroReferenceCache`` (keys ``accounts``, ``tax_rates``,
``branding_themes``, ``currencies``, ``tracking_categories`` and ``organisation`` (its lock dates), which
the mapper and publisher read, plus ``contacts``, which only
the setup screens and mapping checks use). A kind missing from a cache is fetched on first use;
``refresh`` re-reads one kind, so a refresh costs one call (contacts: one per 100).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.reference import cache
from ledgerbridge.common import xero_reference
from ledgerbridge.common.clients.ontraport import OntraportClient
from ledgerbridge.common.clients.xero import XeroClient
from ledgerbridge.common.models import Connection, XeroReferenceCache
from ledgerbridge.common.records.healing import release_reference_waits

XERO_CONTACTS_PAGE_SIZE = 100  # what Xero serves per page of GET /Contacts
MAX_CONTACT_PAGES = 50  # 5,000 contacts; more would spend most of an organisation's minute budget
_CONTACT_FIELDS = (
    "ContactID",
    "Name",
    "ContactNumber",
    "EmailAddress",
    "IsSupplier",
    "IsCustomer",
    "ContactStatus",
    "DefaultCurrency",
)


class XeroKind(enum.StrEnum):
    accounts = "accounts"
    tax_rates = "tax-rates"
    branding_themes = "branding-themes"
    currencies = "currencies"
    tracking_categories = "tracking-categories"
    organisation = "organisation"
    contacts = "contacts"

    @property
    def cache_key(self) -> str:
        return self.value.replace("-", "_")


class OntraportKind(enum.StrEnum):
    products = "products"
    taxes = "taxes"
    coupons = "coupons"
    shipping_methods = "shipping-methods"
    gateways = "gateways"

    @property
    def cache_key(self) -> str:
        return self.value.replace("-", "_")


async def _contacts(client: XeroClient) -> list[dict[str, Any]]:
    # Suppliers and customers together: one walk instead of two, and the cache keeps only what the
    # screens and checks need (no addresses or phone numbers).
    contacts: list[dict[str, Any]] = []
    for page in range(1, MAX_CONTACT_PAGES + 1):
        batch = await client.get_contacts(page=page)
        contacts.extend({name: c[name] for name in _CONTACT_FIELDS if name in c} for c in batch)
        if len(batch) < XERO_CONTACTS_PAGE_SIZE:
            break
    return contacts


async def _organisation(client: XeroClient) -> list[dict[str, Any]]:
    return [await client.get_organisation()]


_XERO_FETCH: dict[XeroKind, Callable[[XeroClient], Awaitable[list[dict[str, Any]]]]] = {
    XeroKind.accounts: lambda client: client.get_accounts(),
    XeroKind.tax_rates: lambda client: client.get_tax_rates(),
    XeroKind.branding_themes: lambda client: client.get_branding_themes(),
    XeroKind.currencies: lambda client: client.get_currencies(),
    XeroKind.tracking_categories: lambda client: client.get_tracking_categories(),
    XeroKind.organisation: _organisation,
    XeroKind.contacts: _contacts,
}


async def fetch_all_xero(client: XeroClient) -> dict[str, Any]:
    with partner_errors("Xero"):
        return {kind.cache_key: await _XERO_FETCH[kind](client) for kind in XeroKind}


async def _raw_xero_cache(session: AsyncSession, connection_id: uuid.UUID) -> XeroReferenceCache | None:
    return await session.get(XeroReferenceCache, connection_id, populate_existing=True)


async def xero_items(
    session: AsyncSession, partners: Partners, connection: Connection, kind: XeroKind, refresh: bool
) -> tuple[list[dict[str, Any]], datetime]:
    row = await _raw_xero_cache(session, connection.id)
    if row is not None and not refresh and isinstance(row.data.get(kind.cache_key), list):
        return row.data[kind.cache_key], row.fetched_at
    assert connection.xero_tenant_id is not None
    with partner_errors("Xero"):
        fetched = await _XERO_FETCH[kind](partners.xero(connection.id, connection.xero_tenant_id))
    await xero_reference.store(session, connection.id, {**(row.data if row else {}), kind.cache_key: fetched})
    if kind is XeroKind.organisation:
        # The lock date may have moved: what it held goes back to the mapper, which holds again what
        # it still covers.
        await release_reference_waits(session, connection.id)
    stored = await _raw_xero_cache(session, connection.id)
    assert stored is not None
    return fetched, stored.fetched_at


def _ontraport_fetch(client: OntraportClient, kind: OntraportKind) -> Awaitable[list[Any]]:
    calls: dict[OntraportKind, Callable[[], Awaitable[list[Any]]]] = {
        OntraportKind.products: client.products,
        OntraportKind.taxes: client.taxes,
        OntraportKind.coupons: client.coupons,
        OntraportKind.shipping_methods: client.shipping_methods,
        OntraportKind.gateways: client.gateways,
    }
    return calls[kind]()


async def ontraport_items(
    session: AsyncSession, partners: Partners, connection: Connection, kind: OntraportKind, refresh: bool
) -> tuple[list[dict[str, Any]], datetime]:
    data, fetched_at = await cache.read(session, connection.id)
    if not refresh and fetched_at is not None and isinstance(data.get(kind.cache_key), list):
        return data[kind.cache_key], fetched_at
    with partner_errors("ONTRAPORT"):
        records = await _ontraport_fetch(partners.ontraport_of(connection), kind)
    items = [record.model_dump(mode="json") for record in records]
    return items, await cache.merge(session, connection.id, {kind.cache_key: items})
