"""One purchase invoice with what the bill mapping reads around it: the answers to "which account, which
tax code, which currency" for its lines, each checked against the Xero organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledgerbridge.bookkeeping.bills.figures import BillLine, percent
from ledgerbridge.bookkeeping.bills.inputs import BillMappings, BillOptions, BillSyncState
from ledgerbridge.bookkeeping.bills.record import (
    PurchaseInvoiceRecord,
)
from ledgerbridge.bookkeeping.decisions import MappingError
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference


@dataclass(frozen=True)
class BillContext:
    record: PurchaseInvoiceRecord
    mappings: BillMappings
    options: BillOptions
    reference: XeroReference
    state: BillSyncState
    payment_terms_days: int | None
    observed_on: date | None

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.options.time_zone)).date()

    @property
    def date(self) -> date:
        return self.local_date(self.record.created_at)

    def currency(self) -> str:
        record = self.record
        found = sorted({item.currency for item in record.items if item.currency})
        if len(found) > 1:
            raise MappingError(
                f"Purchase invoice {record.reference} mixes currencies ({', '.join(found)}); a bill has one",
                ReasonCode.source_figures,
            )
        # Onport has no currency on an invoice or purchase: the lines' exchangeIso, else the vendor's.
        currency = next(iter(found), record.vendor_currency)
        if currency is None:
            raise MappingError(
                f"Purchase invoice {record.reference} has no currency on its lines or vendor",
                ReasonCode.source_figures,
            )
        if self.reference.currencies and currency not in self.reference.currencies:
            raise MappingError(
                f"Currency {currency} of purchase invoice {record.reference} is not enabled in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "currency", currency),
            )
        return currency

    def account(self, code: str, what: str) -> str:
        if self.reference.account_codes and code not in self.reference.account_codes:
            raise MappingError(
                f"Account {code} ({what}) is not an active account in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "account", code),
            )
        return code

    def purchase_account(self) -> str:
        purchase_type = self.record.purchase_type
        code = self.mappings.purchase_types.get(purchase_type) or self.options.default_purchases_account
        if not code:
            raise MappingError(
                f"Purchase type '{purchase_type}' has no account mapped and no default purchases account is set",
                ReasonCode.purchase_account_unmapped,
                Cause("mapping", "purchase_type", purchase_type),
            )
        return self.account(code, f"purchase type '{purchase_type}'")

    def adjustment_account(self) -> str:
        code = self.options.adjustment_account
        return self.account(code, "adjustments") if code else self.purchase_account()

    def tax_free_code(self, what: str) -> str:
        code = self.mappings.taxes.tax_free_code
        if not code:
            raise MappingError(
                f"{what} is not taxed by Onport but no tax-free purchase tax code is set",
                ReasonCode.setting_missing,
                Cause("setting", "onport.tax_free_code"),
            )
        return code

    def tax_code(self, rate: Decimal, what: str) -> str:
        if not rate:
            code = self.tax_free_code(what)
        else:
            taxes = self.mappings.taxes
            found = taxes.rates.get(rate) or taxes.default_code
            if not found:
                raise MappingError(
                    f"Onport tax rate {percent(rate)} ({what}) has no Xero tax code mapped "
                    "and no default purchase tax code is set",
                    ReasonCode.tax_unmapped,
                    Cause("setting", "onport.tax_codes", str(rate)),
                )
            code = found
        purchases = self.reference.purchase_tax_types
        if purchases and code in self.reference.tax_rates and code not in purchases:
            raise MappingError(
                f"Tax code {code} ({what}) cannot be used on purchases in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "tax_rate", code),
            )
        if self.reference.tax_rates and code not in self.reference.tax_rates:
            raise MappingError(
                f"Tax code {code} ({what}) is not an active tax rate in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "tax_rate", code),
            )
        return code

    def xero_rate(self, line: BillLine) -> Decimal:
        """The percent Xero applies for the line's TaxType (Onport's rate when Xero's is not known)."""
        return self.reference.tax_rates.get(line.tax_type, line.rate * 100)
