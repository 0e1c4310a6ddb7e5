"""Realistic, deterministic starting books for AU, UK and US organisations.

Ids are derived from the tenant id and the record's name, so a demo organisation looks the same after
every reset and two fresh organisations never share an id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ledgerbridge.sandbox.xero.dates import ms_date

if TYPE_CHECKING:
    from ledgerbridge.sandbox.xero.state import Organisation, SandboxState

NAMESPACE = uuid.UUID("5d1c2f1e-7a4b-4c9e-9f0a-3b6c1d2e4f50")
SEED_TIME = 1_704_067_200.0  # 2024-01-01, so seeded records do not change between runs

COUNTRIES = ("AU", "UK", "US")

# Which account classes each tax rate may be used with (Xero's CanApplyTo* flags).
_REV = ("REVENUE",)
_EXP = ("EXPENSE", "ASSET")
_ALL = ("REVENUE", "EXPENSE", "ASSET", "LIABILITY", "EQUITY")

TAX_RATES: dict[str, list[tuple[str, str, float, tuple[str, ...], str]]] = {
    "AU": [
        ("OUTPUT", "GST on Income", 10.0, (*_REV, "LIABILITY"), "OUTPUT"),
        ("INPUT", "GST on Expenses", 10.0, (*_EXP, "LIABILITY"), "INPUT"),
        ("EXEMPTOUTPUT", "GST Free Income", 0.0, _REV, "OUTPUT"),
        ("EXEMPTEXPENSES", "GST Free Expenses", 0.0, _EXP, "INPUT"),
        ("CAPEXINPUT", "GST on Capital", 10.0, ("ASSET",), "INPUT"),
        ("INPUTTAXED", "Input Taxed", 0.0, _ALL, "INPUT"),
        ("GSTONIMPORTS", "GST on Imports", 0.0, _EXP, "INPUT"),
        ("BASEXCLUDED", "BAS Excluded", 0.0, _ALL, "NONE"),
    ],
    "UK": [
        ("OUTPUT2", "20% (VAT on Income)", 20.0, (*_REV, "LIABILITY"), "OUTPUT"),
        ("INPUT2", "20% (VAT on Expenses)", 20.0, (*_EXP, "LIABILITY"), "INPUT"),
        ("RROUTPUT", "5% (VAT on Income)", 5.0, _REV, "OUTPUT"),
        ("RRINPUT", "5% (VAT on Expenses)", 5.0, _EXP, "INPUT"),
        ("ZERORATEDOUTPUT", "Zero Rated Income", 0.0, _REV, "OUTPUT"),
        ("ZERORATEDINPUT", "Zero Rated Expenses", 0.0, _EXP, "INPUT"),
        ("EXEMPTOUTPUT", "Exempt Income", 0.0, _REV, "OUTPUT"),
        ("EXEMPTINPUT", "Exempt Expenses", 0.0, _EXP, "INPUT"),
        ("NONE", "No VAT", 0.0, _ALL, "NONE"),
    ],
    "US": [
        ("TAX001", "State Sales Tax", 8.25, (*_REV, "LIABILITY"), "SALESTAX"),
        ("TAX002", "City Sales Tax", 4.5, (*_REV, "LIABILITY"), "SALESTAX"),
        ("OUTPUT", "Tax on Sales", 0.0, _REV, "OUTPUT"),
        ("INPUT", "Tax on Purchases", 0.0, _EXP, "INPUT"),
        ("NONE", "Tax Exempt", 0.0, _ALL, "NONE"),
    ],
}

# (sales tax, purchase tax, tax-free) per country, used for the accounts' default tax types.
DEFAULT_TAX: dict[str, tuple[str, str, str]] = {
    "AU": ("OUTPUT", "INPUT", "BASEXCLUDED"),
    "UK": ("OUTPUT2", "INPUT2", "NONE"),
    "US": ("TAX001", "INPUT", "NONE"),
}

CURRENCIES: dict[str, list[tuple[str, str]]] = {
    "AU": [
        ("AUD", "Australian Dollar"),
        ("USD", "United States Dollar"),
        ("NZD", "New Zealand Dollar"),
        ("GBP", "British Pound"),
    ],
    "UK": [
        ("GBP", "British Pound"),
        ("EUR", "Euro"),
        ("USD", "United States Dollar"),
        ("AUD", "Australian Dollar"),
    ],
    "US": [("USD", "United States Dollar"), ("CAD", "Canadian Dollar"), ("EUR", "Euro")],
}

ORG_FACTS: dict[str, dict[str, Any]] = {
    "AU": {"BaseCurrency": "AUD", "CountryCode": "AU", "Timezone": "AUSEASTERNSTANDARDTIME", "Version": "AU"},
    "UK": {"BaseCurrency": "GBP", "CountryCode": "GB", "Timezone": "GMTSTANDARDTIME", "Version": "UK"},
    "US": {"BaseCurrency": "USD", "CountryCode": "US", "Timezone": "EASTERNSTANDARDTIME", "Version": "US"},
}

ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

# (code, name, type, tax kind: sales/purchase/free, payments enabled, system account, status)
CHART: list[tuple[str, str, str, str, bool, str, str]] = [
    ("090", "Business Bank Account", "BANK", "free", False, "", "ACTIVE"),
    ("091", "Business Savings Account", "BANK", "free", False, "", "ACTIVE"),
    ("200", "Sales", "REVENUE", "sales", False, "", "ACTIVE"),
    ("210", "Shipping Income", "REVENUE", "sales", False, "", "ACTIVE"),
    ("220", "Coupon Discounts", "REVENUE", "sales", False, "", "ACTIVE"),
    ("260", "Other Revenue", "OTHERINCOME", "sales", False, "", "ACTIVE"),
    ("270", "Interest Income", "OTHERINCOME", "free", False, "", "ACTIVE"),
    ("300", "Purchases", "DIRECTCOSTS", "purchase", False, "", "ACTIVE"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "purchase", False, "", "ACTIVE"),
    ("320", "Dropship Costs", "DIRECTCOSTS", "purchase", False, "", "ACTIVE"),
    ("400", "Advertising", "OVERHEADS", "purchase", False, "", "ACTIVE"),
    ("404", "Bank Fees", "OVERHEADS", "free", False, "", "ACTIVE"),
    ("425", "Freight & Courier", "OVERHEADS", "purchase", False, "", "ACTIVE"),
    ("429", "General Expenses", "OVERHEADS", "purchase", False, "", "ACTIVE"),
    ("499", "Old Expenses (archived)", "OVERHEADS", "purchase", False, "", "ARCHIVED"),
    ("610", "Accounts Receivable", "CURRENT", "free", False, "DEBTORS", "ACTIVE"),
    ("615", "Stripe Clearing", "CURRENT", "free", True, "", "ACTIVE"),
    ("616", "PayPal Clearing", "CURRENT", "free", True, "", "ACTIVE"),
    ("618", "Braintree Clearing", "CURRENT", "free", True, "", "ACTIVE"),
    ("617", "Vendor Payout Clearing", "CURRENT", "free", True, "", "ACTIVE"),
    ("620", "Prepayments", "PREPAYMENT", "free", False, "", "ACTIVE"),
    ("630", "Inventory", "INVENTORY", "free", False, "", "ACTIVE"),
    ("710", "Office Equipment", "FIXED", "purchase", False, "", "ACTIVE"),
    ("800", "Accounts Payable", "CURRLIAB", "free", False, "CREDITORS", "ACTIVE"),
    ("820", "Sales Tax", "CURRLIAB", "free", False, "GST", "ACTIVE"),
    ("830", "Payouts Payable Clearing", "CURRLIAB", "free", True, "", "ACTIVE"),
    ("960", "Retained Earnings", "EQUITY", "free", False, "RETAINEDEARNINGS", "ACTIVE"),
    ("970", "Owner Funds Introduced", "EQUITY", "free", False, "", "ACTIVE"),
]

BRANDING_THEMES = ["Standard", "Special Projects", "Online Store"]
TRACKING_CATEGORIES: dict[str, tuple[tuple[str, str], ...]] = {
    # Category → (option, status): one archived option, and one archived category, as real books have.
    "Region": (("North", "ACTIVE"), ("South", "ACTIVE"), ("East", "ACTIVE"), ("Old West", "ARCHIVED")),
    "Channel": (("Online", "ACTIVE"), ("Retail", "ACTIVE")),
    "Campaign 2019": (("Launch", "ACTIVE"),),
}
ARCHIVED_CATEGORIES = frozenset({"Campaign 2019"})

# (name, contact number, email, is supplier, is customer, status)
CONTACTS: list[tuple[str, str, str, bool, bool, str]] = [
    ("Ridgeway University", "", "accounts@ridgeway.example", False, True, "ACTIVE"),
    ("City Agency", "", "hello@cityagency.example", False, True, "ACTIVE"),
    ("PowerDirect", "", "billing@powerdirect.example", True, False, "ACTIVE"),
    ("Dropship Supplies Co", "VEND-1", "ap@dropship.example", True, False, "ACTIVE"),
    ("Acme Wholesale", "VEND-2", "invoices@acme.example", True, False, "ACTIVE"),
    ("Old Vendor Ltd", "VEND-OLD", "closed@oldvendor.example", True, False, "ARCHIVED"),
]

# (code, name, unit price, sales account, purchase cost, purchase account)
ITEMS: list[tuple[str, str, float, str, float, str]] = [
    ("PRO-COURSE", "Pro Course", 200.0, "200", 0.0, "310"),
    ("WORKBOOK", "Workbook", 25.0, "200", 8.0, "310"),
]


def stable_id(tenant_id: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{tenant_id}:{kind}:{key}"))


def _tax_rates(country: str) -> dict[str, dict[str, Any]]:
    rates: dict[str, dict[str, Any]] = {}
    for tax_type, name, rate, classes, report_type in TAX_RATES[country]:
        rates[tax_type] = {
            "Name": name,
            "TaxType": tax_type,
            "ReportTaxType": report_type,
            "Status": "ACTIVE",
            "CanApplyToAssets": "ASSET" in classes,
            "CanApplyToEquity": "EQUITY" in classes,
            "CanApplyToExpenses": "EXPENSE" in classes,
            "CanApplyToLiabilities": "LIABILITY" in classes,
            "CanApplyToRevenue": "REVENUE" in classes,
            "DisplayTaxRate": rate,
            "EffectiveRate": rate,
            "TaxComponents": [{"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}],
        }
    return rates


def _accounts(tenant_id: str, country: str) -> dict[str, dict[str, Any]]:
    sales, purchase, free = DEFAULT_TAX[country]
    tax_by_kind = {"sales": sales, "purchase": purchase, "free": free}
    base = ORG_FACTS[country]["BaseCurrency"]
    accounts: dict[str, dict[str, Any]] = {}
    for code, name, account_type, tax_kind, payments, system, status in CHART:
        account_id = stable_id(tenant_id, "account", code)
        account: dict[str, Any] = {
            "AccountID": account_id,
            "Code": code,
            "Name": name,
            "Type": account_type,
            "Status": status,
            "TaxType": tax_by_kind[tax_kind],
            "Class": ACCOUNT_CLASS[account_type],
            "EnablePaymentsToAccount": payments,
            "ShowInExpenseClaims": False,
            "SystemAccount": system,
            "BankAccountType": "",
            "ReportingCode": "",
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(SEED_TIME),
            "AddToWatchlist": False,
        }
        if account_type == "BANK":
            account["BankAccountType"] = "BANK"
            account["BankAccountNumber"] = f"{code}-{country}-0001"
            account["CurrencyCode"] = base
        accounts[account_id] = account
    return accounts


def _contacts(tenant_id: str) -> dict[str, dict[str, Any]]:
    contacts: dict[str, dict[str, Any]] = {}
    for name, number, email, supplier, customer, status in CONTACTS:
        contact_id = stable_id(tenant_id, "contact", name)
        contact: dict[str, Any] = {
            "ContactID": contact_id,
            "ContactStatus": status,
            "Name": name,
            "EmailAddress": email,
            "IsSupplier": supplier,
            "IsCustomer": customer,
            "Addresses": [],
            "Phones": [],
            "ContactGroups": [],
            "ContactPersons": [],
            "HasAttachments": False,
            "HasValidationErrors": False,
            "UpdatedDateUTC": ms_date(SEED_TIME),
        }
        if number:
            contact["ContactNumber"] = number
        contacts[contact_id] = contact
    return contacts


def _items(tenant_id: str, country: str) -> dict[str, dict[str, Any]]:
    sales, purchase, _ = DEFAULT_TAX[country]
    items: dict[str, dict[str, Any]] = {}
    for code, name, price, sales_account, cost, purchase_account in ITEMS:
        item_id = stable_id(tenant_id, "item", code)
        items[item_id] = {
            "ItemID": item_id,
            "Code": code,
            "Name": name,
            "Description": name,
            "IsSold": True,
            "IsPurchased": cost > 0,
            "IsTrackedAsInventory": False,
            "SalesDetails": {"UnitPrice": price, "AccountCode": sales_account, "TaxType": sales},
            "PurchaseDetails": {"UnitPrice": cost, "AccountCode": purchase_account, "TaxType": purchase},
            "UpdatedDateUTC": ms_date(SEED_TIME),
        }
    return items


def build_organisation(
    state: SandboxState, country: str, name: str, tenant_id: str, *, is_demo: bool
) -> Organisation:
    from ledgerbridge.sandbox.xero.state import Organisation

    if country not in COUNTRIES:
        raise ValueError(f"country must be one of {', '.join(COUNTRIES)}")
    facts = ORG_FACTS[country]
    sales, purchase, _ = DEFAULT_TAX[country]
    organisation = {
        "OrganisationID": tenant_id,
        "APIKey": "",
        "Name": name,
        "LegalName": name,
        "PaysTax": True,
        "Version": facts["Version"],
        "OrganisationType": "COMPANY",
        "BaseCurrency": facts["BaseCurrency"],
        "CountryCode": facts["CountryCode"],
        "IsDemoCompany": is_demo,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 30 if country == "AU" else 31,
        "FinancialYearEndMonth": 6 if country == "AU" else (3 if country == "UK" else 12),
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "Timezone": facts["Timezone"],
        "OrganisationEntityType": "COMPANY",
        "ShortCode": "!" + tenant_id[:5],
        "Class": "DEMO" if is_demo else "PREMIUM",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Online education and merchandise",
        "CreatedDateUTC": ms_date(SEED_TIME),
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
        "_default_sales_tax": sales,
        "_default_purchase_tax": purchase,
    }
    themes: dict[str, dict[str, Any]] = {}
    for order, theme_name in enumerate(BRANDING_THEMES):
        theme_id = stable_id(tenant_id, "theme", theme_name)
        themes[theme_id] = {
            "BrandingThemeID": theme_id,
            "Name": theme_name,
            "LogoUrl": "",
            "Type": "INVOICE",
            "SortOrder": order,
            "CreatedDateUTC": ms_date(SEED_TIME),
        }
    currencies = {code: {"Code": code, "Description": label} for code, label in CURRENCIES[country]}
    tracking: dict[str, dict[str, Any]] = {}
    for category_name, options in TRACKING_CATEGORIES.items():
        category_id = stable_id(tenant_id, "tracking", category_name)
        tracking[category_id] = {
            "TrackingCategoryID": category_id,
            "Name": category_name,
            "Status": "ARCHIVED" if category_name in ARCHIVED_CATEGORIES else "ACTIVE",
            "Options": [
                {
                    "TrackingOptionID": stable_id(tenant_id, "tracking-option", f"{category_name}/{option}"),
                    "Name": option,
                    "Status": status,
                }
                for option, status in options
            ],
        }
    return Organisation(
        tenant_id=tenant_id,
        name=name,
        country=country,
        base_currency=facts["BaseCurrency"],
        is_demo=is_demo,
        organisation=organisation,
        accounts=_accounts(tenant_id, country),
        tax_rates=_tax_rates(country),
        branding_themes=themes,
        currencies=currencies,
        contacts=_contacts(tenant_id),
        items=_items(tenant_id, country),
        tracking_categories=tracking,
        limits=state.new_org_limits(),
        faults=state.new_fault_plan(),
    )


def demo_tenant_id(country: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"demo-organisation:{country}"))


def seed_demo_organisations(state: SandboxState) -> Iterable[Organisation]:
    for country in COUNTRIES:
        yield build_organisation(
            state, country, f"Demo Company ({country})", demo_tenant_id(country), is_demo=True
        )
