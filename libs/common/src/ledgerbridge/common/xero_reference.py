"""The cached copy of an organisation's reference data: what is kept, and reading it back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.common.models import XeroReferenceCache


@dataclass(frozen=True)
class ReferenceData:
    accounts: list[dict[str, Any]]
    tax_rates: list[dict[str, Any]]
    branding_themes: list[dict[str, Any]]
    currencies: list[dict[str, Any]]
    fetched_at: datetime
    tracking_categories: list[dict[str, Any]] = field(default_factory=list)
    organisation: list[dict[str, Any]] = field(default_factory=list)
    """``GET /Organisation``'s one element (its lock dates), as a list like the other kinds."""

    @cached_property
    def reference(self) -> XeroReference:
        """The same data as the bookkeeping core reads it."""
        return XeroReference.from_xero(
            accounts=self.accounts,
            tax_rates=self.tax_rates,
            branding_themes=self.branding_themes,
            currencies=self.currencies,
            tracking_categories=self.tracking_categories,
            organisation=self.organisation[0] if self.organisation else None,
        )


async def load(session: AsyncSession, connection_id: uuid.UUID) -> ReferenceData | None:
    row = await session.get(XeroReferenceCache, connection_id)
    if row is None:
        return None
    data = row.data
    return ReferenceData(
        accounts=data.get("accounts", []),
        tax_rates=data.get("tax_rates", []),
        branding_themes=data.get("branding_themes", []),
        currencies=data.get("currencies", []),
        fetched_at=row.fetched_at,
        tracking_categories=data.get("tracking_categories", []),
        organisation=data.get("organisation", []),
    )


async def store(session: AsyncSession, connection_id: uuid.UUID, data: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    await session.execute(
        insert(XeroReferenceCache)
        .values(connection_id=connection_id, data=data, fetched_at=now)
        .on_conflict_do_update(
            index_elements=["connection_id"], set_={"data": data, "fetched_at": now, "updated_at": now}
        )
    )
