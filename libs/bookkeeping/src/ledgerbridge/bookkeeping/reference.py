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
        return cls(
            account_codes=frozenset(
                str(a["Code"]) for a in accounts if a.get("Code") and a.get("Status") != "ARCHIVED"
            ),
            tax_rates={
                str(rate["TaxType"]): Decimal(str(rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))))
                for rate in tax_rates
                if rate.get("TaxType")
            },
            branding_theme_ids=frozenset(
                str(t["BrandingThemeID"]) for t in branding_themes if t.get("BrandingThemeID")
            ),
            currencies=frozenset(str(c["Code"]) for c in currencies if c.get("Code")),
        )
