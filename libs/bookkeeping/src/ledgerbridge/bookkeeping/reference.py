"""What the core knows of the Xero organisation: its active accounts, tax rates, themes and currencies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.base import Frozen


class XeroReference(Frozen):
    """Xero reference data. An empty collection means "not known": nothing is checked against it."""

    account_codes: frozenset[str] = frozenset()
    """Codes of the organisation's active accounts."""
    tax_rates: dict[str, Decimal] = {}
    """Active TaxType code → effective rate in percent."""
    branding_theme_ids: frozenset[str] = frozenset()
    currencies: frozenset[str] = frozenset()
    payment_account_codes: frozenset[str] = frozenset()
    """Active accounts Xero takes payments to: bank accounts and those with payments enabled."""
    sales_tax_types: frozenset[str] = frozenset()
    """Active tax rates that can apply to revenue."""
    purchase_tax_types: frozenset[str] = frozenset()
    """Active tax rates that can apply to expenses."""

    @classmethod
    def from_xero(
        cls,
        *,
        accounts: Iterable[Mapping[str, Any]],
        tax_rates: Iterable[Mapping[str, Any]],
        branding_themes: Iterable[Mapping[str, Any]],
        currencies: Iterable[Mapping[str, Any]],
    ) -> XeroReference:
        """From the elements of Xero's ``/Accounts``, ``/TaxRates``, ``/BrandingThemes``, ``/Currencies``."""
        rates = list(tax_rates)
        return cls(
            account_codes=frozenset(
                str(a["Code"]) for a in accounts if a.get("Code") and a.get("Status") != "ARCHIVED"
            ),
            tax_rates={
                str(rate["TaxType"]): Decimal(str(rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))))
                for rate in rates
                if rate.get("TaxType")
            },
            branding_theme_ids=frozenset(
                str(t["BrandingThemeID"]) for t in branding_themes if t.get("BrandingThemeID")
            ),
            currencies=frozenset(str(c["Code"]) for c in currencies if c.get("Code")),
            payment_account_codes=frozenset(
                str(a["Code"])
                for a in accounts
                if a.get("Code")
                and a.get("Status") != "ARCHIVED"
                and (a.get("Type") == "BANK" or a.get("EnablePaymentsToAccount") is True)
            ),
            sales_tax_types=_applicable(rates, "CanApplyToRevenue"),
            purchase_tax_types=_applicable(rates, "CanApplyToExpenses"),
        )


def _applicable(rates: Iterable[Mapping[str, Any]], flag: str) -> frozenset[str]:
    """Active tax types whose ``flag`` is true; empty (not known) when Xero sent no such flag."""
    return frozenset(
        str(rate["TaxType"])
        for rate in rates
        if rate.get("TaxType") and rate.get(flag) is True and rate.get("Status", "ACTIVE") == "ACTIVE"
    )
