"""Reading and changing the tenant's options; values the Xero organisation must know are checked."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.mappings.service import Reference, ReferenceData, ReferenceKind, check_references
from ledgerbridge.api.problems import validation_problem
from ledgerbridge.api.settings.schemas import SettingsFields, SettingsUpdated, SyncSettings
from ledgerbridge.common.models import AccountSettings

_ACCOUNT_CODE_FIELDS = (
    "default_sales_account_code",
    "default_coupon_account_code",
    "default_shipping_account_code",
)


def _options(values: dict[str, Any]) -> dict[str, Any]:
    # The row also holds data that is not an option (the Xero reference cache); leave it out and alone.
    return {name: value for name, value in values.items() if name in SyncSettings.model_fields}


async def read(session: AsyncSession, account_id: uuid.UUID) -> SyncSettings:
    values = await session.scalar(
        select(AccountSettings.values).where(AccountSettings.account_id == account_id)
    )
    return SyncSettings.model_validate(_options(values or {}))


def _references(changes: dict[str, Any]) -> list[Reference]:
    references = [
        Reference(("body", name), name, ReferenceKind.account_code, changes[name])
        for name in _ACCOUNT_CODE_FIELDS
        if changes.get(name) is not None
    ]
    if changes.get("tax_free_tax_type") is not None:
        references.append(
            Reference(
                ("body", "tax_free_tax_type"),
                "tax_free_tax_type",
                ReferenceKind.tax_type,
                changes["tax_free_tax_type"],
            )
        )
    for currency, code in (changes.get("payout_account_codes") or {}).items():
        loc = ("body", "payout_account_codes", currency)
        references.append(Reference(loc, "payout currency", ReferenceKind.currency_code, currency))
        references.append(
            Reference(loc, f"payout_account_codes.{currency}", ReferenceKind.account_code, code)
        )
    return references


async def update(
    session: AsyncSession, reference: ReferenceData, account_id: uuid.UUID, patch: SettingsFields
) -> SettingsUpdated:
    await session.execute(
        insert(AccountSettings).values(account_id=account_id, values={}).on_conflict_do_nothing()
    )
    # Locked, so two concurrent PATCHes of different fields both survive.
    row = await session.scalar(
        select(AccountSettings).where(AccountSettings.account_id == account_id).with_for_update()
    )
    assert row is not None  # inserted just above when missing
    changes = patch.model_dump(mode="json", exclude_unset=True)
    try:
        updated = SyncSettings.model_validate({**_options(row.values), **changes})
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    # Only what changed is checked: an option saved before reference data was cached stays editable.
    warnings = await check_references(reference, _references(changes))
    row.values = {**row.values, **updated.model_dump(mode="json")}
    return SettingsUpdated(**updated.model_dump(), warnings=warnings)
