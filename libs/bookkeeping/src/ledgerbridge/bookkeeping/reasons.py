"""Why a record waits, fails or was skipped: one code per reason, what it means, and the fix.

The code is stored on the record with the cause it names (which mapping, which setting, which
connection), so a change to that very thing can find the records it frees, and the web app and the API
can say what to do in words a bookkeeper understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class ReasonCode(StrEnum):
    # Waiting: held until something outside the record changes.
    plan_limit = "plan_limit"
    trial_expired = "trial_expired"
    xero_not_linked = "xero_not_linked"
    xero_reference = "xero_reference"
    vendor_unlinked = "vendor_unlinked"
    invoice_not_finalized = "invoice_not_finalized"
    manual_sync = "manual_sync"
    source_incomplete = "source_incomplete"
    summary_pending = "summary_pending"
    rolled_back = "rolled_back"
    rolling_back = "rolling_back"
    refund_summary_pending = "refund_summary_pending"
    period_locked = "period_locked"
    # Failed: retryable once the tenant fixes what the cause names.
    product_unmapped = "product_unmapped"
    coupon_unmapped = "coupon_unmapped"
    shipping_unmapped = "shipping_unmapped"
    tax_unmapped = "tax_unmapped"
    gateway_unmapped = "gateway_unmapped"
    purchase_account_unmapped = "purchase_account_unmapped"
    payout_account_unmapped = "payout_account_unmapped"
    setting_missing = "setting_missing"
    xero_code_unknown = "xero_code_unknown"
    source_figures = "source_figures"
    source_unreadable = "source_unreadable"
    mapping_inputs = "mapping_inputs"
    mapping_error = "mapping_error"
    xero_rejected = "xero_rejected"
    approved_amount_differs = "approved_amount_differs"

    @property
    def meaning(self) -> str:
        return _TEXTS[self][0]

    @property
    def fix(self) -> str:
        return _TEXTS[self][1]


_TEXTS: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.plan_limit: (
        "The trial's transactions are used up",
        "Upgrade the plan; held records then go to Xero by themselves",
    ),
    ReasonCode.trial_expired: (
        "The trial's 30 days are over",
        "Upgrade the plan; held records then go to Xero by themselves",
    ),
    ReasonCode.xero_not_linked: (
        "The connection is not linked to a Xero organisation",
        "Choose the Xero organisation for this connection",
    ),
    ReasonCode.xero_reference: (
        "The Xero organisation's accounts and tax rates are being read",
        "Nothing to do: the record continues once they are read",
    ),
    ReasonCode.vendor_unlinked: (
        "The Onport vendor is not linked to a Xero supplier",
        "Link the vendor to a Xero contact (or allow creating missing suppliers)",
    ),
    ReasonCode.invoice_not_finalized: (
        "The purchase invoice is not finalized in Onport",
        "Finalize it in Onport; it is synced on the next poll",
    ),
    ReasonCode.manual_sync: (
        "Automatic sync is off for this kind of purchase invoice",
        "Sync it by hand, or switch automatic sync on for its purchase type",
    ),
    ReasonCode.source_incomplete: (
        "Part of the source record (an Onport invoice's shipping and landed costs) is not read yet",
        "Nothing to do: the next poll reads it and the record continues",
    ),
    ReasonCode.summary_pending: (
        "Summary mode is on: the sale goes into its day's summary invoice once the day closes",
        "Nothing to do: the summary is sent at the day-close hour (or switch summary mode off)",
    ),
    ReasonCode.rolled_back: (
        "What was made in Xero for this record was undone by a rollback",
        "Retry the record (or retry every rolled-back record) to sync it again",
    ),
    ReasonCode.rolling_back: (
        "A rollback of this record failed part-way: Xero refused undoing one of its documents",
        "Read the document's error, fix it in Xero, then run the rollback again",
    ),
    ReasonCode.refund_summary_pending: (
        "Summary mode is on: the refund of a summarised sale goes into its day's refunds credit note "
        "once the day closes",
        "Nothing to do: the refunds credit note is sent at the day-close hour",
    ),
    ReasonCode.period_locked: (
        "The document's date is on or before the Xero organisation's lock date, and Xero refuses it",
        "Move the lock date in Xero (the record then goes by itself), or set locked periods to post on "
        "the first open day",
    ),
    ReasonCode.product_unmapped: (
        "A product has no Xero account",
        "Map the product to an account, or set a default sales account",
    ),
    ReasonCode.coupon_unmapped: (
        "A coupon has no Xero account",
        "Map the coupon to an account, or set a default coupon account",
    ),
    ReasonCode.shipping_unmapped: (
        "A shipping method has no Xero account",
        "Map the shipping method to an account, or set a default shipping account",
    ),
    ReasonCode.tax_unmapped: ("A tax has no Xero tax code", "Map the tax to a Xero tax code"),
    ReasonCode.gateway_unmapped: (
        "A payment gateway lacks its currency, payment account or branding theme",
        "Complete the gateway's mapping",
    ),
    ReasonCode.purchase_account_unmapped: (
        "A purchase type has no Xero account",
        "Map the purchase type to an account, or set a default purchases account",
    ),
    ReasonCode.payout_account_unmapped: (
        "No payout account is set for the bill's currency",
        "Set the payout account for that currency",
    ),
    ReasonCode.setting_missing: ("A setting the mapping needs is not set", "Set it in the invoice options"),
    ReasonCode.xero_code_unknown: (
        "A mapped account, tax code, theme or currency is not active in the Xero organisation",
        "Pick one the organisation has, or refresh the Xero reference data",
    ),
    ReasonCode.source_figures: (
        "The source record's figures do not add up",
        "Correct the record at the source; it is read again on the next poll",
    ),
    ReasonCode.source_unreadable: (
        "The source record cannot be read",
        "Correct the record at the source, or contact support with the record's id",
    ),
    ReasonCode.mapping_inputs: (
        "The account's settings or mappings cannot be read",
        "Review the settings and mappings named in the message",
    ),
    ReasonCode.mapping_error: (
        "The mapping stopped on an unexpected error",
        "Retry; if it repeats, contact support",
    ),
    ReasonCode.xero_rejected: ("Xero refused a document", "Fix what Xero's message names, then retry"),
    ReasonCode.approved_amount_differs: (
        "A draft invoice was approved in Xero for another amount than the sale charged",
        "Correct the invoice in Xero to the sale's amount (the payment then follows), or record the "
        "payment in Xero by hand",
    ),
}


CauseKind = Literal["mapping", "setting", "connection", "source", "xero", "rollback"]


@dataclass(frozen=True)
class Cause:
    """The one thing a reason depends on: fixing it is what should release the record.

    ``kind`` and ``name`` say what it is (``mapping``/``product``, ``setting``/``ontraport.default_sales_account``,
    ``connection``/``xero``); ``key`` narrows it to one item (the product id) when there is one.
    """

    kind: CauseKind
    name: str
    key: str | None = None

    def as_dict(self) -> dict[str, str]:
        found = {"kind": self.kind, "name": self.name}
        if self.key is not None:
            found["key"] = self.key
        return found
