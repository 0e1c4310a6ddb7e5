"""The tenant's options with their defaults; stored in ``AccountSettings.values``."""

from __future__ import annotations

import string
import zoneinfo
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ledgerbridge.api.mappings.schemas import AccountCode, CurrencyCode, TaxType

# What an invoice number or reference template may use; the mapper fills these from the transaction.
TEMPLATE_FIELDS = frozenset(
    {"transaction_id", "invoice_id", "order_id", "external_order_id", "contact_id", "first_name", "last_name"}
)

Template = Annotated[str, StringConstraints(min_length=1, max_length=255)]


@cache
def _time_zones() -> frozenset[str]:
    # Scans the tz database on disk; once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def _check_template(value: str) -> str:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from exc
    unknown = sorted({name for name in names if name not in TEMPLATE_FIELDS})
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}}; use any of "
            + ", ".join(f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS))
        )
    return value


class SettingsFields(BaseModel):
    """Every option with its default. As a request body only the fields sent are changed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"invoice_status": "DRAFT", "time_zone": "Australia/Sydney", "coupon_mode": "discount_amount"}
            ]
        },
    )

    # ONTRAPORT → sales invoices (SPEC.md §4)
    default_sales_account_code: AccountCode | None = Field(
        default=None, description="Product lines without a product mapping go here"
    )
    default_coupon_account_code: AccountCode | None = Field(
        default=None, description="Coupon lines without a coupon mapping; unset uses the sales account"
    )
    default_shipping_account_code: AccountCode | None = Field(
        default=None, description="Shipping lines without a shipping mapping; unset uses the sales account"
    )
    tax_free_tax_type: TaxType | None = Field(
        default=None, description="Xero tax code for untaxed lines when untaxed_mode is TaxFreeCode"
    )
    untaxed_mode: Literal["NoTax", "TaxFreeCode"] = "NoTax"
    invoice_status: Literal["AUTHORISED", "DRAFT"] = "AUTHORISED"
    invoice_number_template: Template = "OP-{transaction_id}"
    reference_template: Template = "{last_name}-{invoice_id}"
    match_contacts_by_email: bool = True
    coupon_mode: Literal["separate_line", "discount_amount"] = "separate_line"
    time_zone: str = Field(default="UTC", description="IANA time zone invoice dates are taken in")
    sync_unpaid: bool = Field(default=False, description="Also sync unpaid transactions as awaiting payment")

    # Onport → bills (SPEC.md §5)
    onport_auto_sync_dropship: bool = False
    onport_auto_sync_replenishment: bool = False
    onport_adjustments: bool = False
    onport_commission_lines: bool = False
    onport_create_missing_supplier_contacts: bool = False
    bill_status: Literal["AUTHORISED", "DRAFT"] = "AUTHORISED"
    payout_account_codes: dict[CurrencyCode, AccountCode] = Field(
        default_factory=dict,
        description="Account vendor payouts are paid from, per currency",
        examples=[{"AUD": "090", "USD": "091"}],
    )

    _invoice_number = field_validator("invoice_number_template")(_check_template)
    _reference = field_validator("reference_template")(_check_template)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(f"'{value}' is not an IANA time zone (e.g. 'Australia/Sydney')")
        return value


class SyncSettings(SettingsFields):
    """The whole, consistent set of options."""

    @model_validator(mode="after")
    def _tax_free_code_when_used(self) -> SyncSettings:
        if self.untaxed_mode == "TaxFreeCode" and not self.tax_free_tax_type:
            raise ValueError("untaxed_mode TaxFreeCode needs tax_free_tax_type")
        return self


class SettingsUpdated(SyncSettings):
    warnings: list[str] = Field(
        default_factory=list, description="Checks that could not be made yet (no Xero reference data cached)"
    )
