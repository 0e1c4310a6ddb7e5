"""Reading and changing the tenant's options, stored as ``AccountOptions`` in ``AccountSettings.values``.

A PATCH is a JSON merge patch on the stored options; the result is validated whole (``AccountOptions``
plus what only the API checks: a tax-free code when one is needed, currency codes)
and values the Xero organisation must know are checked through the ``ReferenceData`` seam.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.mappings.service import Reference, ReferenceData, ReferenceKind, check_references
from ledgerbridge.api.problems import VALIDATION_TYPE, ProblemError, validation_problem
from ledgerbridge.api.settings.schemas import SettingsUpdated
from ledgerbridge.common.account_settings import AccountOptions
from ledgerbridge.common.models import AccountSettings
from ledgerbridge.common.records.healing import heal, setting_changes

_SECTIONS = ("ontraport", "onport")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_ACCOUNT_CODE = 10  # Xero account codes are at most 10 characters

Loc = tuple[str | int, ...]


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in _SECTIONS if isinstance(values.get(name), dict)}


async def read(session: AsyncSession, account_id: uuid.UUID) -> AccountOptions:
    values = await session.scalar(
        select(AccountSettings.values).where(AccountSettings.account_id == account_id)
    )
    return AccountOptions.model_validate(_stored(values or {}))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    onport = values.get("onport")
    payouts = onport.get("payout_accounts") if isinstance(onport, dict) else None
    if isinstance(onport, dict) and isinstance(payouts, dict):
        # Currency codes are case-insensitive to people and upper case to Xero.
        upper = {
            str(currency).strip().upper(): code.strip() if isinstance(code, str) else code
            for currency, code in payouts.items()
        }
        return {**values, "onport": {**onport, "payout_accounts": upper}}
    return values


def _api_errors(options: AccountOptions) -> list[dict[str, Any]]:
    """What ``AccountOptions`` leaves to the API: rules that need context the workers do not re-check."""
    errors: list[tuple[Loc, str]] = []
    ontraport = options.ontraport
    if ontraport.untaxed_mode == "TaxFreeCode" and not ontraport.tax_free_code:
        errors.append((("ontraport", "tax_free_code"), "untaxed_mode TaxFreeCode needs tax_free_code"))
    for name in ("default_sales_account", "default_coupon_account", "default_shipping_account"):
        code = getattr(ontraport, name)
        if code is not None and not 0 < len(code.strip()) <= _MAX_ACCOUNT_CODE:
            errors.append((("ontraport", name), "an account code has 1 to 10 characters"))
    for currency, code in options.onport.payout_accounts.items():
        if not _CURRENCY.match(currency):
            errors.append(
                (("onport", "payout_accounts", currency), f"'{currency}' is not a currency code like AUD")
            )
        elif not 0 < len(code) <= _MAX_ACCOUNT_CODE:
            errors.append((("onport", "payout_accounts", currency), "an account code has 1 to 10 characters"))
    return [{"loc": ["body", *loc], "msg": msg, "type": "value_error"} for loc, msg in errors]


def _changed_references(before: AccountOptions, after: AccountOptions) -> list[Reference]:
    """Only what changed is checked: an option saved before reference data was cached stays editable."""
    references: list[Reference] = []
    for name, kind in (
        ("default_sales_account", ReferenceKind.account_code),
        ("default_coupon_account", ReferenceKind.account_code),
        ("default_shipping_account", ReferenceKind.account_code),
        ("tax_free_code", ReferenceKind.sales_tax_type),
    ):
        value = getattr(after.ontraport, name)
        if value is not None and value != getattr(before.ontraport, name):
            references.append(Reference(("body", "ontraport", name), f"ontraport.{name}", kind, value))
    old_payouts = before.onport.payout_accounts
    for currency, code in after.onport.payout_accounts.items():
        if old_payouts.get(currency) == code:
            continue
        loc = ("body", "onport", "payout_accounts", currency)
        references.append(Reference(loc, "payout currency", ReferenceKind.currency_code, currency))
        references.append(
            Reference(loc, f"onport.payout_accounts.{currency}", ReferenceKind.account_code, code)
        )
    return references


async def update(
    session: AsyncSession, reference: ReferenceData, account_id: uuid.UUID, patch: dict[str, Any]
) -> SettingsUpdated:
    await session.execute(
        insert(AccountSettings).values(account_id=account_id, values={}).on_conflict_do_nothing()
    )
    # Locked, so two concurrent PATCHes of different fields both survive.
    row = await session.scalar(
        select(AccountSettings)
        .where(AccountSettings.account_id == account_id)
        .with_for_update(key_share=True)
    )
    assert row is not None  # inserted just above when missing
    stored = _stored(row.values)
    before = AccountOptions.model_validate(stored)
    try:
        after = AccountOptions.model_validate(_normalised(merge_patch(stored, patch)))
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    errors = _api_errors(after)
    if errors:
        raise ProblemError(
            422,
            "Request validation failed",
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors),
            type_=VALIDATION_TYPE,
            errors=errors,
        )
    warnings = await check_references(reference, _changed_references(before, after))
    # Exactly the AccountOptions shape: the workers validate this row with extra fields forbidden.
    row.values = after.model_dump(mode="json")
    await heal(session, account_id, setting_changes(before.model_dump(mode="json"), row.values))
    return SettingsUpdated(**after.model_dump(), warnings=warnings)
