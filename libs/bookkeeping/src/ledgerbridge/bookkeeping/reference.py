"""What the core knows of the Xero organisation: its active accounts, tax rates, themes, currencies,
tracking categories and lock date."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
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
    tracking: dict[str, frozenset[str]] = {}
    """Active tracking category name → the names of its active options."""
    lock_date: date | None = None
    """The organisation's lock date (the later of ``PeriodLockDate`` and ``EndOfYearLockDate``): Xero
    refuses documents dated on or before it."""

    @classmethod
    def from_xero(
        cls,
        *,
        accounts: Iterable[Mapping[str, Any]],
        tax_rates: Iterable[Mapping[str, Any]],
        branding_themes: Iterable[Mapping[str, Any]],
        currencies: Iterable[Mapping[str, Any]],
        tracking_categories: Iterable[Mapping[str, Any]] = (),
        organisation: Mapping[str, Any] | None = None,
    ) -> XeroReference:
        """From the elements of Xero's ``/Accounts``, ``/TaxRates``, ``/BrandingThemes``, ``/Currencies``,
        ``/TrackingCategories`` and the ``/Organisation``."""
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
            tracking={
                str(category["Name"]): frozenset(
                    str(option["Name"])
                    for option in category.get("Options") or []
                    if option.get("Name") and option.get("Status", "ACTIVE") == "ACTIVE"
                )
                for category in tracking_categories
                if category.get("Name") and category.get("Status", "ACTIVE") == "ACTIVE"
            },
            lock_date=_lock_date(organisation or {}),
        )


def _applicable(rates: Iterable[Mapping[str, Any]], flag: str) -> frozenset[str]:
    """Active tax types whose ``flag`` is true; empty (not known) when Xero sent no such flag."""
    return frozenset(
        str(rate["TaxType"])
        for rate in rates
        if rate.get("TaxType") and rate.get(flag) is True and rate.get("Status", "ACTIVE") == "ACTIVE"
    )


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def xero_date(value: object) -> date | None:
    """A Xero date: ``/Date(1546214400000+0000)/`` (milliseconds since 1970, UTC) or ``2019-12-31``."""
    if not isinstance(value, str) or not value:
        return None
    found = _MS_DATE.match(value)
    if found:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(found.group(1)))).date()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _lock_date(organisation: Mapping[str, Any]) -> date | None:
    dates = [
        found
        for found in (xero_date(organisation.get(name)) for name in ("PeriodLockDate", "EndOfYearLockDate"))
        if found is not None
    ]
    return max(dates) if dates else None
