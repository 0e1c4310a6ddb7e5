"""The tenant's options (SPEC.md §4, §5), as stored in ``account_settings.values``.

One schema for everyone who reads or writes them: the API validates PATCHes with it, the workers read
their defaults from it, so a value the API accepts is a value the mapper understands.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OntraportOptions(_Options):
    default_sales_account: str | None = Field(default=None, examples=["200"])
    default_coupon_account: str | None = Field(default=None, examples=["260"])
    default_shipping_account: str | None = Field(default=None, examples=["250"])
    tax_free_code: str | None = Field(default=None, examples=["EXEMPTOUTPUT"])
    untaxed_mode: Literal["NoTax", "TaxFreeCode"] = "NoTax"
    invoice_status: Literal["AUTHORISED", "DRAFT"] = "AUTHORISED"
    invoice_number_template: str = "OP-{transaction_id}"
    reference_template: str = "{last_name}-{invoice_id}"
    contact_match_by_email: bool = True
    coupon_mode: Literal["separate_line", "discount_amount"] = "separate_line"
    time_zone: str = "UTC"
    sync_unpaid: bool = False
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
    payout_accounts: dict[str, str] = Field(default_factory=dict, examples=[{"AUD": "090"}])
    default_purchases_account: str | None = Field(default=None, examples=["300"])
    shipping_account: str | None = Field(default=None, examples=["425"])
    adjustment_account: str | None = Field(default=None, examples=["429"])
    commission_account: str | None = Field(default=None, examples=["260"])
    tax_codes: dict[str, str] = Field(
        default_factory=dict,
        description="Onport tax rate (a fraction) → Xero TaxType",
        examples=[{"0.1": "INPUT"}],
    )
    default_tax_code: str | None = Field(default=None, examples=["INPUT"])
    tax_free_code: str | None = Field(default=None, examples=["EXEMPTEXPENSES"])


class AccountOptions(_Options):
    ontraport: OntraportOptions = Field(default_factory=OntraportOptions)
    onport: OnportOptions = Field(default_factory=OnportOptions)
