"""What the setup steps are computed from, always within one account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.sales import OfferDataError, parse_offer_data
from ledgerbridge.common.models import (
    AccountSettings,
    Connection,
    Import,
    ImportStatus,
    Mapping,
    MappingKind,
    RecordStatus,
    SourceRecord,
    TaxExceptionRule,
)

# Enough recent sales to meet every product, tax, coupon and shipping method in regular use, without
# reading a large account's whole history on each request.
SCANNED_RECORDS = 2000


@dataclass
class KnownIds:
    """ONTRAPORT ids the account uses; the mapping steps list those without a mapping."""

    gateways: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    taxes: set[str] = field(default_factory=set)
    shipping: set[str] = field(default_factory=set)
    # A coupon is mapped by its id or by its code: each entry holds every key it may be mapped under.
    coupons: set[tuple[str, ...]] = field(default_factory=set)


async def known_ontraport_ids(session: AsyncSession, account_id: uuid.UUID) -> KnownIds:
    """The ONTRAPORT ids the stored sales name (gateway_id and offer_data).

    The setup adds these to ONTRAPORT's own catalogue (``catalogue.read``), so an item the catalogue no
    longer lists but a sale still uses is not forgotten.
    """
    rows = await session.execute(
        select(
            SourceRecord.payload["transaction"]["gateway_id"].astext,
            SourceRecord.payload["transaction"]["offer_data"].astext,
        )
        .where(
            SourceRecord.account_id == account_id,
            SourceRecord.source == "ontraport",
            SourceRecord.kind == "transaction",
        )
        .order_by(SourceRecord.created_at.desc())
        .limit(SCANNED_RECORDS)
    )
    known = KnownIds()
    offers: set[str] = set()
    for gateway_id, offer_data in rows.all():
        if gateway_id and gateway_id.strip() not in ("", "0"):
            known.gateways.add(gateway_id.strip())
        if offer_data:
            offers.add(offer_data)
    for text in offers:
        try:
            offer = parse_offer_data(text)
        except OfferDataError:
            continue  # the record itself shows this error; it names no ids to map
        known.products.update(str(p.id) for p in offer.products if p.id is not None)
        known.taxes.update(str(t.id) for t in offer.taxes if t.id is not None)
        known.shipping.update(str(s.id) for s in offer.shipping if s.id is not None)
        if offer.coupon is not None:
            keys = tuple(
                key
                for key in (str(offer.coupon.id) if offer.coupon.id is not None else None, offer.coupon.code)
                if key
            )
            if keys:
                known.coupons.add(keys)
    return known


async def mapped_ids(session: AsyncSession, account_id: uuid.UUID) -> dict[MappingKind, set[str]]:
    rows = await session.execute(
        select(Mapping.kind, Mapping.source_id).where(Mapping.account_id == account_id)
    )
    mapped: dict[MappingKind, set[str]] = {kind: set() for kind in MappingKind}
    for kind, source_id in rows.all():
        mapped[kind].add(source_id)
    return mapped


async def connections(session: AsyncSession, account_id: uuid.UUID) -> list[Connection]:
    return list(await session.scalars(select(Connection).where(Connection.account_id == account_id)))


async def has_tax_exceptions(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(TaxExceptionRule.account_id == account_id))))


async def has_finished_import(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            select(exists().where(Import.account_id == account_id, Import.status == ImportStatus.done))
        )
    )


async def has_synced_record(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    SourceRecord.account_id == account_id, SourceRecord.status == RecordStatus.synced
                )
            )
        )
    )


async def saved_option_names(session: AsyncSession, account_id: uuid.UUID) -> set[str]:
    """Names stored in the account's settings row (options, and other data kept beside them)."""
    values = await session.scalar(
        select(AccountSettings.values).where(AccountSettings.account_id == account_id)
    )
    return set(values or {})
