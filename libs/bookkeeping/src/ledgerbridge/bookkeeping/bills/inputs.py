"""Inputs of the bill mapping besides the record: mappings, options, Xero reference data, sync state."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.documents import InvoiceStatus, PublishedDocument
from ledgerbridge.bookkeeping.lock_dates import LockedPeriod
from ledgerbridge.bookkeeping.templates import OnportLinkTemplate

DEFAULT_ONPORT_LINK = "https://app.jetti.io/purchase-invoices/{invoice_id}"
"""Onport's OpenAPI documents no web address for an invoice (only the API resource
``/purchase-invoices/{id}.json``, which needs the API token), so this default is an assumption the
tenant can change (``onport.invoice_url_template``) to what their Onport dashboard shows."""


class TaxMappings(Frozen):
    rates: dict[Decimal, str] = {}
    """Onport tax rate as a fraction ("0.1") → Xero TaxType (e.g. ``INPUT``)."""
    default_code: str | None = None
    """TaxType for a taxed line whose rate has no entry in ``rates``."""
    tax_free_code: str | None = None
    """TaxType for lines Onport did not tax (rate 0, untaxed shipping, adjustments), e.g. ``EXEMPTEXPENSES``."""


class BillMappings(Frozen):
    vendors: dict[int, str] = {}
    """Onport vendor (dropship provider) id → Xero ContactID."""
    purchase_types: dict[str, str] = {}
    """dropship / replenishment / automated_dropship / automated_replenishment → account code."""
    taxes: TaxMappings = TaxMappings()


class BillOptions(Frozen):
    bill_status: InvoiceStatus = InvoiceStatus.AUTHORISED
    sync_adjustments: bool = False
    commission_lines: bool = False
    commission_account: str | None = None
    create_missing_suppliers: bool = False
    default_purchases_account: str | None = None
    shipping_account: str | None = None
    """Default: the line items' purchase-type account."""
    adjustment_account: str | None = None
    """Default: the purchase-type account."""
    payout_accounts: dict[str, str] = {}
    """Currency code → bank or clearing account code vendor payouts leave from, e.g. {"AUD": "090"}."""
    time_zone: str = "UTC"
    """Bill and payment dates are Onport's timestamps in this zone."""
    locked_period: LockedPeriod = LockedPeriod.HOLD
    """Documents dated on or before the Xero lock date: held, or posted on the first open day (the
    account-wide setting ``ontraport.locked_period``, like the time zone)."""
    url_template: OnportLinkTemplate | None = DEFAULT_ONPORT_LINK
    """The bill's link back to Onport (``Url``); placeholders ``{invoice_id}``, ``{purchase_id}`` and
    ``{reference}``; None sends no link."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value


class BillSyncState(Frozen):
    """What this purchase invoice already has in Xero."""

    bill: PublishedDocument | None = None
    """The bill, as last published (an update after an adjustment replaces the first version)."""
    adjustment_bills: tuple[PublishedDocument, ...] = ()
    """``<reference>-ADJ`` bills for positive adjustments made once the bill was paid."""
    credit_notes: tuple[PublishedDocument, ...] = ()
    payments: tuple[PublishedDocument, ...] = ()
    """Bill payments as sent; each is matched to its Onport payout by the body's ``Reference``."""
    allocated: tuple[str, ...] = ()
    """Numbers of the supplier credit notes already allocated to the bill."""
    deleted_payments: tuple[str, ...] = ()
    """PaymentIDs of bill payments deleted in Xero since (their payout was cancelled or refunded)."""
