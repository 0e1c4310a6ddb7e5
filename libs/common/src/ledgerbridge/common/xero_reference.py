"""The cached copy of an organisation's reference data: what is kept, and reading it back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import XeroReferenceCache

WAITING_FOR_REFERENCE = "xero_reference"


@dataclass(frozen=True)
class ReferenceData:
    accounts: list[dict[str, Any]]
    tax_rates: list[dict[str, Any]]
    branding_themes: list[dict[str, Any]]
    currencies: list[dict[str, Any]]
    fetched_at: datetime

    @property
    def account_codes(self) -> frozenset[str]:
        return frozenset(
            str(a["Code"]) for a in self.accounts if a.get("Code") and a.get("Status") != "ARCHIVED"
        )

    @property
    def tax_rate_percents(self) -> dict[str, Decimal]:
        return {
            str(rate["TaxType"]): Decimal(str(rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))))
            for rate in self.tax_rates
            if rate.get("TaxType")
        }

    @property
    def branding_theme_ids(self) -> frozenset[str]:
        return frozenset(str(t["BrandingThemeID"]) for t in self.branding_themes if t.get("BrandingThemeID"))

    @property
    def currency_codes(self) -> frozenset[str]:
        return frozenset(str(c["Code"]) for c in self.currencies if c.get("Code"))


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
