"""Reading what the pure mapping core needs from the database: the tenant's mappings, options, history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.bookkeeping.bills import BillMappings, BillOptions, BillSyncState, TaxMappings
from ledgerbridge.bookkeeping.documents import InvoiceStatus, PublishedDocument
from ledgerbridge.bookkeeping.lock_dates import LockedPeriod
from ledgerbridge.bookkeeping.sales import (
    Contact,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    SyncState,
    TaxException,
    TrialState,
    tax_combination_key,
)
from ledgerbridge.common.account_settings import AccountOptions
from ledgerbridge.common.models import (
    Account,
    AccountSettings,
    Document,
    DocumentKind,
    DocumentStatus,
    Mapping,
    MappingKind,
    Plan,
    TaxExceptionRule,
    XeroDocumentState,
)
from ledgerbridge.common.models.accounts import TRIAL_DAYS
from ledgerbridge.common.tax_exception_rules import read_stored_filters
from ledgerbridge.common.xero_documents import INVOICE as INVOICE_RESOURCE

log = structlog.get_logger(__name__)


async def account_options(session: AsyncSession, account_id: uuid.UUID) -> AccountOptions:
    row = await session.get(AccountSettings, account_id)
    return AccountOptions.model_validate(row.values if row else {})


# Options that steer the publisher (contact matching) or only the setup's review steps, not the mapping.
_NOT_FOR_MAPPING = {"contact_match_by_email", "invoice_options_confirmed", "tax_exceptions_reviewed"}


def mapping_settings(options: AccountOptions) -> MappingSettings:
    return MappingSettings.model_validate(options.ontraport.model_dump(exclude=_NOT_FOR_MAPPING))


TAX_COMBINATION = re.compile(r"\d+(\+\d+)+")
"""A tax mapping's source id for taxes charged together, e.g. ``4+6``."""


def _int_key(source_id: str) -> int | None:
    return int(source_id) if source_id.isdigit() else None


async def ontraport_mappings(session: AsyncSession, account_id: uuid.UUID) -> Mappings:
    rows = (await session.scalars(select(Mapping).where(Mapping.account_id == account_id))).all()
    products: dict[int, ProductMapping] = {}
    coupons: dict[str, str] = {}
    taxes: dict[int, str] = {}
    combinations: dict[str, str] = {}
    shipping: dict[int, str] = {}
    gateways: dict[int, GatewayMapping] = {}
    for row in rows:
        key = _int_key(row.source_id)
        target = row.target
        if row.kind is MappingKind.product and key is not None:
            products[key] = ProductMapping.model_validate(target)
        elif row.kind is MappingKind.coupon:
            coupons[row.source_id] = target["account_code"]
        elif row.kind is MappingKind.tax and key is not None:
            taxes[key] = target["tax_type"]
        elif row.kind is MappingKind.tax and TAX_COMBINATION.fullmatch(row.source_id):
            ids = [int(part) for part in row.source_id.split("+")]
            combinations[tax_combination_key(ids)] = target["tax_type"]
        elif row.kind is MappingKind.shipping and key is not None:
            shipping[key] = target["account_code"]
        elif row.kind is MappingKind.gateway and key is not None:
            gateways[key] = GatewayMapping.model_validate(target)
    rules = (
        await session.scalars(
            select(TaxExceptionRule)
            .where(TaxExceptionRule.account_id == account_id, TaxExceptionRule.enabled.is_(True))
            .order_by(TaxExceptionRule.priority, TaxExceptionRule.created_at)
        )
    ).all()
    exceptions = tuple(
        TaxException.model_validate({"name": rule.name, "tax_type": rule.tax_type, **filters})
        for rule, filters in readable_rules(rules)
    )
    return Mappings(
        products=products,
        coupons=coupons,
        taxes=taxes,
        tax_combinations=combinations,
        shipping=shipping,
        gateways=gateways,
        tax_exceptions=exceptions,
    )


def readable_rules(rules: Sequence[TaxExceptionRule]) -> Iterator[tuple[TaxExceptionRule, dict[str, Any]]]:
    """The rules with their filters read by the API's own model; one stored before that model was shared
    is skipped, named in the log (and shown with its error by the API), instead of failing every record."""
    for rule in rules:
        try:
            yield rule, read_stored_filters(rule.filters)
        except ValidationError as exc:
            log.warning("tax_exception.unreadable", rule_id=str(rule.id), rule=rule.name, error=str(exc))


def ontraport_contact(raw: dict[str, Any] | None) -> Contact | None:
    """ONTRAPORT's contact record (object 0) as the mapping sees it; tags come as ``*/*1*/*5*/*``."""
    if not raw or not str(raw.get("id", "")).isdigit():
        return None
    tags = frozenset(tag for tag in str(raw.get("contact_cat") or "").split("*/*") if tag)
    return Contact(
        id=int(raw["id"]),
        first_name=raw.get("firstname") or None,
        last_name=raw.get("lastname") or None,
        email=raw.get("email") or None,
        country=raw.get("country") or None,
        tags=tags,
        # ONTRAPORT's phone fields, when the account has them; the rest are its standard address fields.
        phone=_text(raw.get("office_phone")),
        mobile=_text(raw.get("cell_phone")),
        address=_text(raw.get("address")),
        address2=_text(raw.get("address2")),
        city=_text(raw.get("city")),
        region=_text(raw.get("state")),
        postal_code=_text(raw.get("zip")),
    )


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


def trial_ends_at(account: Account) -> datetime:
    return account.created_at + timedelta(days=TRIAL_DAYS)


def trial_state(account: Account, now: datetime) -> TrialState:
    return TrialState(
        plan_is_trial=account.plan is Plan.trial,
        synced_count=account.trial_used,
        limit=account.trial_limit,
        expired=now >= trial_ends_at(account),
    )


def _published(document: Document) -> PublishedDocument:
    return PublishedDocument(
        xero_id=document.xero_id,
        number=document.xero_number,
        amount=document.amount if document.amount is not None else Decimal(0),
        fingerprint=document.fingerprint,
        body=document.request_body,
    )


def _draft_invoice(documents: list[Document]) -> Document | None:
    return next(
        (
            d
            for d in documents
            if d.status is DocumentStatus.published
            and d.kind is DocumentKind.invoice
            and d.xero_id
            and d.request_body.get("Status") == InvoiceStatus.DRAFT.value
        ),
        None,
    )


HeldKey = tuple[uuid.UUID, str, str]
"""Xero's copy of a draft invoice as ``XeroDocumentState`` keys it: organisation, resource, id."""


def held_draft_key(documents: list[Document]) -> HeldKey | None:
    """Where Xero's copy of the record's invoice is kept, when we sent it as a draft (a person may have
    approved it there since: ``approved_drafts`` reads it again)."""
    draft = _draft_invoice(documents)
    if draft is None or draft.xero_id is None:
        return None
    return (draft.xero_connection_id, INVOICE_RESOURCE, draft.xero_id.lower())


async def held_draft(session: AsyncSession, documents: list[Document]) -> XeroDocumentState | None:
    """Xero's copy of the record's draft invoice as last read (:func:`held_draft_key`)."""
    key = held_draft_key(documents)
    return await session.get(XeroDocumentState, key) if key is not None else None


async def held_drafts(session: AsyncSession, keys: set[HeldKey]) -> dict[HeldKey, XeroDocumentState]:
    """:func:`held_draft` for many records in one query; a key Xero's copy is not kept for is absent."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(XeroDocumentState).where(
            tuple_(
                XeroDocumentState.xero_connection_id, XeroDocumentState.resource, XeroDocumentState.xero_id
            ).in_(sorted(keys))
        )
    )
    return {(row.xero_connection_id, row.resource, row.xero_id): row for row in rows}


def sync_state(documents: list[Document], held: XeroDocumentState | None = None) -> SyncState:
    """``held`` is Xero's copy of a draft invoice (:func:`held_draft`), when the caller read it."""
    published = [document for document in documents if document.status is DocumentStatus.published]

    def single(kind: DocumentKind) -> PublishedDocument | None:
        return next((_published(d) for d in published if d.kind is kind), None)

    return SyncState(
        invoice_held_status=held.status if held is not None and held.found else None,
        invoice_held_total=held.total if held is not None and held.found else None,
        invoice=single(DocumentKind.invoice),
        payment=single(DocumentKind.payment),
        payment_deleted=any(d.kind is DocumentKind.payment_delete for d in published),
        invoice_voided=any(d.kind is DocumentKind.invoice_void for d in published),
        credit_notes=tuple(_published(d) for d in published if d.kind is DocumentKind.credit_note),
        refund_payments=tuple(_published(d) for d in published if d.kind is DocumentKind.refund_payment),
    )


async def bill_mappings(
    session: AsyncSession, account_id: uuid.UUID, options: AccountOptions
) -> BillMappings:
    rows = (
        await session.scalars(
            select(Mapping).where(
                Mapping.account_id == account_id,
                Mapping.kind.in_((MappingKind.vendor, MappingKind.purchase_type)),
            )
        )
    ).all()
    vendors = {
        int(row.source_id): str(row.target["contact_id"])
        for row in rows
        if row.kind is MappingKind.vendor and row.source_id.isdigit()
    }
    purchase_types = {
        row.source_id: str(row.target["account_code"])
        for row in rows
        if row.kind is MappingKind.purchase_type
    }
    onport = options.onport
    taxes = TaxMappings(
        rates={Decimal(rate): code for rate, code in onport.tax_codes.items()},
        default_code=onport.default_tax_code,
        tax_free_code=onport.tax_free_code,
    )
    return BillMappings(vendors=vendors, purchase_types=purchase_types, taxes=taxes)


def bill_options(options: AccountOptions) -> BillOptions:
    onport = options.onport
    return BillOptions(
        bill_status=InvoiceStatus(onport.bill_status),
        sync_adjustments=onport.sync_adjustments,
        commission_lines=onport.commission_lines,
        commission_account=onport.commission_account,
        create_missing_suppliers=onport.create_missing_suppliers,
        default_purchases_account=onport.default_purchases_account,
        shipping_account=onport.shipping_account,
        adjustment_account=onport.adjustment_account,
        payout_accounts=onport.payout_accounts,
        time_zone=options.ontraport.time_zone,
        url_template=onport.invoice_url_template or None,
        locked_period=LockedPeriod(options.ontraport.locked_period),
    )


def bill_sync_state(documents: list[Document]) -> BillSyncState:
    published = [document for document in documents if document.status is DocumentStatus.published]
    # The first bill published is the bill; later ones with its number are its updates (the newest
    # stands), those with another number are adjustment bills.
    bills = sorted(
        (d for d in published if d.kind is DocumentKind.bill),
        key=lambda d: (d.published_at or d.created_at, d.created_at),
    )
    number = bills[0].request_body.get("InvoiceNumber") if bills else None
    versions = [d for d in bills if d.request_body.get("InvoiceNumber") == number]
    return BillSyncState(
        bill=_published(versions[-1]) if versions else None,
        adjustment_bills=tuple(_published(d) for d in bills if d not in versions),
        credit_notes=tuple(_published(d) for d in published if d.kind is DocumentKind.supplier_credit_note),
        payments=tuple(_published(d) for d in published if d.kind is DocumentKind.bill_payment),
        allocated=tuple(
            str(d.target_id) for d in published if d.kind is DocumentKind.credit_allocation and d.target_id
        ),
        deleted_payments=tuple(
            d.target_id for d in published if d.kind is DocumentKind.payment_delete and d.target_id
        ),
    )
