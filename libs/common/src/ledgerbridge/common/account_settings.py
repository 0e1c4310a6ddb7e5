"""The tenant's options (SPEC.md §4, §5), as stored in ``account_settings.values``.

One schema for everyone who reads or writes them: the API validates PATCHes with it, the workers read
their defaults from it, so a value the API accepts is a value the mapper understands.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ledgerbridge.bookkeeping.bills.inputs import DEFAULT_ONPORT_LINK
from ledgerbridge.bookkeeping.templates import OnportLinkTemplate, Template

# Every free-text option has a documented maximum (README, "Limits"): Xero account codes are at most 10
# characters, tax types are short codes, time zones are IANA names.
AccountCode = Annotated[str, StringConstraints(max_length=10)]
TaxCode = Annotated[str, StringConstraints(max_length=50)]
ShortKey = Annotated[str, StringConstraints(max_length=20)]
MAX_MAP_ENTRIES = 200


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OntraportOptions(_Options):
    default_sales_account: AccountCode | None = Field(default=None, examples=["200"])
    default_coupon_account: AccountCode | None = Field(default=None, examples=["260"])
    default_shipping_account: AccountCode | None = Field(default=None, examples=["250"])
    tax_free_code: TaxCode | None = Field(default=None, examples=["EXEMPTOUTPUT"])
    untaxed_mode: Literal["NoTax", "TaxFreeCode"] = "NoTax"
    invoice_status: Literal["AUTHORISED", "DRAFT"] = "AUTHORISED"
    invoice_number_template: Template = Field(
        default="OP-{transaction_id}",
        description="Placeholders {transaction_id} {invoice_id} {order_id} {external_order_id} {contact_id} "
        "{first_name} {last_name} {gateway_id}, no format spec; rendered text cut to 255 characters",
    )
    reference_template: Template = Field(
        default="{last_name}-{invoice_id}", description="Same placeholders as invoice_number_template"
    )
    contact_match_by_email: bool = True
    coupon_mode: Literal["separate_line", "discount_amount"] = "separate_line"
    time_zone: str = Field(default="UTC", max_length=64)
    sync_unpaid: bool = False
    skip_refunded_before_sync: bool = False
    # Summary mode (issue 13, point 1); see ledgerbridge.bookkeeping.sales.summary.
    summary_mode: bool = Field(
        default=False,
        description="One invoice per local day and gateway (a line per account and tax code, one payment of "
        "the day's charges) instead of one invoice per sale; late sales go into -ADJn adjustment summaries",
    )
    summary_close_hour: int = Field(
        default=2,
        ge=0,
        le=23,
        description="Hour of the next day (in time_zone) at which a day's summary is made; the hours after "
        "midnight are the grace for sales that reach us late",
    )
    # Issue 13 (bookkeeping options): documents in a period Xero has locked.
    locked_period: Literal["hold", "first_open_day"] = Field(
        default="hold",
        description="A document dated on or before the Xero organisation's lock date: hold the record "
        "(waiting, reason period_locked) until the lock date moves, or post it on the first day after the "
        "lock date with its original date in the reference",
    )
    # The setup's two review steps: only a person can say "these are right" (issue 11).
    invoice_options_confirmed: bool = Field(
        default=False, description="The owner reviewed and confirmed the invoice options"
    )
    tax_exceptions_reviewed: bool = Field(
        default=False, description="The owner confirmed that no (more) tax exceptions are needed"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value


class OnportOptions(_Options):
    auto_sync_dropship: bool = False
    auto_sync_replenishment: bool = False
    sync_adjustments: bool = False
    commission_lines: bool = False
    create_missing_suppliers: bool = False
    bill_status: Literal["AUTHORISED", "DRAFT"] = "AUTHORISED"
    payout_accounts: dict[ShortKey, AccountCode] = Field(
        default_factory=dict, max_length=MAX_MAP_ENTRIES, examples=[{"AUD": "090"}]
    )
    default_purchases_account: AccountCode | None = Field(default=None, examples=["300"])
    shipping_account: AccountCode | None = Field(default=None, examples=["425"])
    adjustment_account: AccountCode | None = Field(default=None, examples=["429"])
    commission_account: AccountCode | None = Field(default=None, examples=["260"])
    tax_codes: dict[ShortKey, TaxCode] = Field(
        default_factory=dict,
        max_length=MAX_MAP_ENTRIES,
        description="Onport tax rate (a fraction) → Xero TaxType",
        examples=[{"0.1": "INPUT"}],
    )
    default_tax_code: TaxCode | None = Field(default=None, examples=["INPUT"])
    tax_free_code: TaxCode | None = Field(default=None, examples=["EXEMPTEXPENSES"])
    invoice_url_template: OnportLinkTemplate = Field(
        default=DEFAULT_ONPORT_LINK,
        description="The bill's link back to Onport: an https address with placeholders {invoice_id} "
        "{purchase_id} {reference}; an empty string sends no link (null restores the default). Onport's "
        "API description names no web address for an invoice, so set this to the address your Onport "
        "dashboard shows for one",
    )


class AccountOptions(_Options):
    ontraport: OntraportOptions = Field(default_factory=OntraportOptions)
    onport: OnportOptions = Field(default_factory=OnportOptions)
