"""Validating and saving mappings, and the seam through which Xero reference data checks them.

``ReferenceData`` is what validation needs to know about the organisation: which account codes, tax
types, branding themes, currencies and contacts exist. ``XeroCacheReferenceData`` reads it from the Xero
reference cache; ``mappings.dependencies.reference_data`` is the one place that chooses the source.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.repository import publishing_xero_connection_ids
from ledgerbridge.api.mappings import repository
from ledgerbridge.api.mappings.schemas import (
    TARGET_MODELS,
    MappingIn,
    MappingOut,
    MappingSaved,
    MappingsSaved,
)
from ledgerbridge.api.problems import ProblemError, validation_problem
from ledgerbridge.common import xero_reference
from ledgerbridge.common.models import MappingKind, XeroReferenceCache
from ledgerbridge.common.records.healing import Change, heal

MAX_BULK_MAPPINGS = 1000


class ReferenceKind(enum.StrEnum):
    account_code = "account_codes"
    payment_account = "payment_account_codes"
    tax_type = "tax_types"
    sales_tax_type = "sales_tax_types"
    branding_theme_id = "branding_theme_ids"
    currency_code = "currency_codes"
    contact_id = "contact_ids"
    tracking = "tracking_options"


_WHERE = {
    ReferenceKind.account_code: "in the organisation's chart of accounts",
    ReferenceKind.payment_account: "an account Xero takes payments to (a bank account, or one with payments enabled)",
    ReferenceKind.tax_type: "one of the organisation's tax rates",
    ReferenceKind.sales_tax_type: "one of the organisation's tax rates that apply to sales",
    ReferenceKind.branding_theme_id: "one of the organisation's branding themes",
    ReferenceKind.currency_code: "one of the organisation's currencies",
    ReferenceKind.contact_id: "one of the organisation's contacts",
    ReferenceKind.tracking: "an active option of an active tracking category of the organisation (see GET "
    "/v1/xero/{connection_id}/tracking-categories; refresh it if you just added one in Xero)",
}


class ReferenceData(Protocol):
    async def known(self, kind: ReferenceKind) -> frozenset[str] | None:
        """Every valid value of ``kind`` (case-folded), or None when it has not been fetched from Xero yet."""


class XeroCacheReferenceData:
    """Reference data from ``xero_reference`` (the cache the mapper and publisher use) of the account's
    publishing organisations: those its sources post to, or else its active Xero connection(s). With
    several, a value must exist in at least one. Contacts come from the ``contacts`` list the API adds to
    the same cache; a kind missing from every cache has not been fetched, so it is only warned about."""

    def __init__(self, caches: list[tuple[xero_reference.ReferenceData, Mapping[str, Any]]]) -> None:
        self._caches = caches

    @classmethod
    async def load(cls, session: AsyncSession, account_id: uuid.UUID) -> XeroCacheReferenceData:
        caches: list[tuple[xero_reference.ReferenceData, Mapping[str, Any]]] = []
        for connection_id in await publishing_xero_connection_ids(session, account_id):
            data = await xero_reference.load(session, connection_id)
            # The same row, from the session's identity map: load() keeps no unknown keys (contacts).
            row = await session.get(XeroReferenceCache, connection_id)
            if data is not None and row is not None:
                caches.append((data, row.data))
        return cls(caches)

    async def known(self, kind: ReferenceKind) -> frozenset[str] | None:
        found: set[str] | None = None
        for data, raw in self._caches:
            values = _values(kind, data, raw)
            if values is not None:
                found = (found or set()) | {value.casefold() for value in values}
        return None if found is None else frozenset(found)


def _values(
    kind: ReferenceKind, data: xero_reference.ReferenceData, raw: Mapping[str, Any]
) -> Iterable[str] | None:
    if kind == ReferenceKind.contact_id:
        contacts = raw.get("contacts")
        if not isinstance(contacts, list):
            return None
        return [str(c["ContactID"]) for c in contacts if isinstance(c, dict) and c.get("ContactID")]
    known = data.reference
    if kind == ReferenceKind.tracking:
        if not isinstance(raw.get("tracking_categories"), list):
            return None
        return [
            tracking_value(name, option) for name, options in known.tracking.items() for option in options
        ]
    if kind in (ReferenceKind.account_code, ReferenceKind.payment_account):
        if not isinstance(raw.get("accounts"), list):
            return None
        # Without Xero's account types (an old cache), any active account is all that can be checked.
        paying = kind is ReferenceKind.payment_account and known.payment_account_codes
        return known.payment_account_codes if paying else known.account_codes
    if kind in (ReferenceKind.tax_type, ReferenceKind.sales_tax_type):
        if not isinstance(raw.get("tax_rates"), list):
            return None
        sales = kind is ReferenceKind.sales_tax_type and known.sales_tax_types
        return known.sales_tax_types if sales else known.tax_rates.keys()
    if kind == ReferenceKind.branding_theme_id:
        return data.reference.branding_theme_ids if isinstance(raw.get("branding_themes"), list) else None
    return data.reference.currencies if isinstance(raw.get("currencies"), list) else None


@dataclass(frozen=True)
class Reference:
    """One value of a request that must exist in the organisation; ``loc`` says where it was sent and
    ``field`` is how the error message names it."""

    loc: tuple[str | int, ...]
    field: str
    kind: ReferenceKind
    value: str


async def check_references(reference: ReferenceData, references: Iterable[Reference]) -> list[str]:
    """Warnings for values that could not be checked yet; a 422 problem naming every unknown value."""
    warnings: list[str] = []
    errors: list[dict[str, Any]] = []
    for ref in references:
        known = await reference.known(ref.kind)
        if known is None:
            warnings.append(
                f"{ref.field} '{ref.value}' was not checked: the organisation's Xero data has not been fetched yet"
            )
        elif ref.value.casefold() not in known:
            errors.append(
                {
                    "loc": list(ref.loc),
                    "msg": f"{ref.field} '{ref.value}' is not {_WHERE[ref.kind]}",
                    "type": "unknown_reference",
                }
            )
    if errors:
        raise ProblemError(
            422,
            "Unknown Xero reference",
            "; ".join(error["msg"] for error in errors),
            type_="https://ledgerbridge.dev/problems/unknown-reference",
            errors=errors,
        )
    return warnings


# Which target fields name something in Xero, and what.
_REFERENCED_FIELDS = {
    "account_code": ReferenceKind.account_code,
    "payment_account_code": ReferenceKind.payment_account,
    "tax_type": ReferenceKind.sales_tax_type,  # only ONTRAPORT taxes map to a tax type: sales
    "branding_theme_id": ReferenceKind.branding_theme_id,
    "currency_code": ReferenceKind.currency_code,
    "contact_id": ReferenceKind.contact_id,
}


def tracking_value(name: str, option: str) -> str:
    """How a tracking choice is compared and named in errors: ``Region: North``."""
    return f"{name}: {option}"


def _references(target: dict[str, Any], loc: tuple[str | int, ...]) -> list[Reference]:
    found = [
        Reference((*loc, name), name, _REFERENCED_FIELDS[name], str(value))
        for name, value in target.items()
        if name in _REFERENCED_FIELDS and value is not None
    ]
    found += [
        Reference(
            (*loc, "tracking", index),
            "tracking",
            ReferenceKind.tracking,
            tracking_value(choice["name"], choice["option"]),
        )
        for index, choice in enumerate(target.get("tracking") or [])
    ]
    return found


def _parse_target(kind: MappingKind, raw: dict[str, Any]) -> dict[str, Any]:
    model: type[BaseModel] = TARGET_MODELS[kind]
    # Unset options are left out, so a target stores (and shows) only what was chosen.
    return model.model_validate(raw).model_dump(mode="json", exclude_none=True, exclude_defaults=True)


_MANY_KEYS = 50  # past this many items of one kind, a save frees every record waiting on that kind


async def heal_mapped(
    session: AsyncSession, account_id: uuid.UUID, saved: list[tuple[MappingKind, str]]
) -> int:
    """Records that failed or waited on what was just mapped go back to the mapper (a linked vendor's
    purchase invoices, a product's sales…)."""
    by_kind: dict[MappingKind, set[str]] = {}
    for kind, source_id in saved:
        by_kind.setdefault(kind, set()).add(source_id)
    changes = [
        Change("mapping", kind.value, key)
        for kind, keys in by_kind.items()
        for key in (sorted(keys) if len(keys) <= _MANY_KEYS else [None])
    ]
    return await heal(session, account_id, changes)


async def put_mapping(
    session: AsyncSession,
    reference: ReferenceData,
    account_id: uuid.UUID,
    kind: MappingKind,
    source_id: str,
    raw_target: dict[str, Any],
) -> MappingSaved:
    try:
        target = _parse_target(kind, raw_target)
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    warnings = await check_references(reference, _references(target, ("body",)))
    (saved,) = await repository.upsert(session, account_id, [(kind, source_id, target)])
    await heal_mapped(session, account_id, [(kind, source_id)])
    return MappingSaved(**MappingOut.model_validate(saved).model_dump(), warnings=warnings)


async def put_mappings(
    session: AsyncSession, reference: ReferenceData, account_id: uuid.UUID, items: list[MappingIn]
) -> MappingsSaved:
    """All or nothing: one invalid item rejects the whole list, with every problem named."""
    errors: list[dict[str, Any]] = []
    rows: list[tuple[MappingKind, str, dict[str, Any]]] = []
    references: list[Reference] = []
    seen: set[tuple[MappingKind, str]] = set()
    for index, item in enumerate(items):
        if (item.kind, item.source_id) in seen:
            errors.append(
                {
                    "loc": ["body", index, "source_id"],
                    "msg": f"{item.kind} '{item.source_id}' appears more than once",
                    "type": "duplicate",
                }
            )
            continue
        seen.add((item.kind, item.source_id))
        try:
            target = _parse_target(item.kind, item.target)
        except ValidationError as exc:
            errors.extend(validation_problem(exc, ("body", index, "target")).problem.errors or [])
            continue
        rows.append((item.kind, item.source_id, target))
        references.extend(_references(target, ("body", index, "target")))
    if errors:
        raise ProblemError(
            422,
            "Request validation failed",
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)[:2000],
            type_="https://ledgerbridge.dev/problems/validation",
            errors=errors,
        )
    warnings = await check_references(reference, references)
    saved = await repository.upsert(session, account_id, rows) if rows else []
    await heal_mapped(session, account_id, [(kind, source_id) for kind, source_id, _ in rows])
    return MappingsSaved(items=[MappingOut.model_validate(row) for row in saved], warnings=warnings)
