"""Inputs of the mapping: the tenant's mappings and settings, the contact, Xero reference data, and
what has already been published for the record."""

from __future__ import annotations

import string
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator, model_validator

from ledgerbridge.bookkeeping.base import Frozen
from ledgerbridge.bookkeeping.documents import InvoiceStatus, PublishedDocument
from ledgerbridge.bookkeeping.lock_dates import LockedPeriod
from ledgerbridge.bookkeeping.tracking import Tracking

TEMPLATE_FIELDS = frozenset(
    {
        "transaction_id",
        "invoice_id",
        "order_id",
        "external_order_id",
        "contact_id",
        "first_name",
        "last_name",
        "gateway_id",
    }
)
"""Placeholders the invoice number, reference and URL templates may use."""


class ProductMapping(Frozen):
    account_code: str = Field(min_length=1)
    item_code: str | None = None
    tracking: Tracking = ()
    """The product's lines carry these tracking options (over the gateway's in the same category)."""


class GatewayMapping(Frozen):
    currency_code: str = Field(min_length=3, max_length=3)
    branding_theme_id: str | None = None
    payment_account_code: str | None = None
    """Clearing or bank account payments (and refunds) go through; without it no payment is made."""
    tracking: Tracking = ()
    """Every line of the gateway's sales carries these tracking options (unless a product chooses another
    option in the same category)."""


class TaxException(Frozen):
    """Makes matching transactions tax inclusive with ``tax_type``.

    A rule matches when every filter that is set matches (any value within one filter will do); a rule
    needs at least one filter. Emails, domains, countries and tags compare case-insensitively.
    """

    name: str
    tax_type: str = Field(min_length=1)
    emails: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    gateway_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()

    @model_validator(mode="after")
    def _has_a_filter(self) -> TaxException:
        if not (
            self.emails
            or self.email_domains
            or self.countries
            or self.tags
            or self.gateway_ids
            or self.product_ids
        ):
            raise ValueError(f"tax exception {self.name!r} has no filter; it would match every sale")
        return self


class Mappings(Frozen):
    """ONTRAPORT ids → Xero codes. Coupons are keyed by id (as text) or by code."""

    products: dict[int, ProductMapping] = {}
    coupons: dict[str, str] = {}
    taxes: dict[int, str] = {}
    """ONTRAPORT tax id → Xero TaxType code."""
    tax_combinations: dict[str, str] = {}
    """Taxes charged together on one line (their ids ascending, joined by ``+``, e.g. ``"4+6"``) → the
    Xero TaxType of the one rate that has each of them as a component. A Xero line carries one tax
    code, so a line taxed twice needs this; a line taxed once keeps its tax's own code."""
    shipping: dict[int, str] = {}
    """Shipping method id → account code."""
    gateways: dict[int, GatewayMapping] = {}
    tax_exceptions: tuple[TaxException, ...] = ()
    """Checked in order; the first matching rule applies."""


def tax_combination_key(tax_ids: Iterable[int]) -> str:
    """The key of :attr:`Mappings.tax_combinations` for these ONTRAPORT tax ids."""
    return "+".join(str(tax_id) for tax_id in sorted(set(tax_ids)))


class UntaxedMode(StrEnum):
    NO_TAX = "NoTax"
    """``LineAmountTypes`` NoTax, no TaxType on lines."""
    TAX_FREE_CODE = "TaxFreeCode"
    """Exclusive lines carrying ``MappingSettings.tax_free_code``."""


class CouponMode(StrEnum):
    SEPARATE_LINE = "separate_line"
    DISCOUNT_AMOUNT = "discount_amount"


def _check_template(template: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise ValueError(f"template {template!r} is malformed: {error}") from None
    unknown = names - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(
            f"template {template!r} uses {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(TEMPLATE_FIELDS))}"
        )
    return template


Template = Annotated[str, AfterValidator(_check_template)]
"""A ``str.format`` template over :data:`TEMPLATE_FIELDS`."""


class MappingSettings(Frozen):
    default_sales_account: str | None = None
    default_coupon_account: str | None = None
    default_shipping_account: str | None = None
    tax_free_code: str | None = None
    """Xero TaxType for lines ONTRAPORT did not tax, e.g. ``EXEMPTOUTPUT``."""
    untaxed_mode: UntaxedMode = UntaxedMode.NO_TAX
    """How a sale without any tax (and no tax exception) is sent."""
    invoice_status: InvoiceStatus = InvoiceStatus.AUTHORISED
    invoice_number_template: Template = "OP-{transaction_id}"
    reference_template: Template = "{last_name}-{invoice_id}"
    url_template: Template | None = (
        "https://app.ontraport.com/#!/o_transactions10000/edit&id={transaction_id}"
    )
    coupon_mode: CouponMode = CouponMode.SEPARATE_LINE
    time_zone: str = "UTC"
    sync_unpaid: bool = False
    """Send unpaid (status 0) transactions as invoices awaiting payment."""
    skip_refunded_before_sync: bool = False
    """A sale fully refunded before it was first synced is skipped instead of booked as invoice, payment,
    credit note and refund (SPEC §4 item 8)."""
    # Summary mode (issue 13, point 1): see ledgerbridge.bookkeeping.sales.summary.
    summary_mode: bool = False
    """Paid sales go into one invoice per local day and gateway instead of one invoice each."""
    summary_close_hour: int = Field(default=2, ge=0, le=23)
    """A day's summary closes at this hour (tenant's time zone) of the next day: the hours between
    midnight and it are the grace for sales that reach us late."""
    locked_period: LockedPeriod = LockedPeriod.HOLD
    """Documents dated in a period Xero has locked are held (default) or posted on the first open day."""

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @model_validator(mode="after")
    def _tax_free_code_when_needed(self) -> MappingSettings:
        if self.untaxed_mode is UntaxedMode.TAX_FREE_CODE and not self.tax_free_code:
            raise ValueError("untaxed mode TaxFreeCode needs a tax_free_code")
        return self


class Contact(Frozen):
    """The ONTRAPORT contact of the transaction (fields the mapping uses)."""

    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    country: str | None = None
    tags: frozenset[str] = frozenset()
    phone: str | None = None
    mobile: str | None = None
    address: str | None = None
    address2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None


class SyncState(Frozen):
    """What this record already has in Xero."""

    invoice: PublishedDocument | None = None
    payment: PublishedDocument | None = None
    payment_deleted: bool = False
    invoice_voided: bool = False
    credit_notes: tuple[PublishedDocument, ...] = ()
    refund_payments: tuple[PublishedDocument, ...] = ()
    invoice_held_status: str | None = None
    """Status Xero holds the invoice in now, when it was re-read after we sent it as a draft."""
    invoice_held_total: Decimal | None = None
    """Total Xero holds the invoice for now (read with ``invoice_held_status``)."""


class TrialState(Frozen):
    plan_is_trial: bool = False
    synced_count: int = 0
    limit: int = 20
    expired: bool = False
    """The trial's days are over (the caller knows the clock; the core does not)."""
