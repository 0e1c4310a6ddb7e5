"""Xero's business rules for one organisation's books: contacts, items, invoices/bills, credit notes,
payments and allocations.

Each operation validates one batch element completely before touching anything, raising
``ValidationFailed`` with Xero's messages; changes go through a ``Batch`` journal so a batch sent with
``summarizeErrors=true`` can be undone as a whole when any element fails.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.xero.dates import date_string, ms_date, ms_date_of, parse_date
from ledgerbridge.sandbox.xero.money import (
    ZERO,
    cents,
    dec,
    document_totals,
    line_amount,
    line_tax,
    out,
    round_to,
)
from ledgerbridge.sandbox.xero.state import Document, Organisation

INVOICE_TYPES = ("ACCREC", "ACCPAY")
CREDIT_NOTE_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
CREATABLE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
CLASS_FLAG = {
    "REVENUE": "CanApplyToRevenue",
    "EXPENSE": "CanApplyToExpenses",
    "ASSET": "CanApplyToAssets",
    "LIABILITY": "CanApplyToLiabilities",
    "EQUITY": "CanApplyToEquity",
}


class ValidationFailed(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class Batch:
    """Journal of one request's changes, plus the webhook events they cause."""

    org: Organisation
    now: float
    unitdp: int = 2
    saved: list[tuple[str, str, Document | None]] = field(default_factory=list)
    events: list[tuple[str, str, str, Document]] = field(default_factory=list)
    sequences: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.sequences = Counter(self.org.sequences)

    def put(self, collection: str, key: str, document: Document, category: str | None = None) -> None:
        store = self.org.collection(collection)
        previous = store.get(key)
        self.saved.append((collection, key, copy.deepcopy(previous) if previous is not None else None))
        document["_updated"] = self.now
        document["UpdatedDateUTC"] = ms_date(self.now)
        store[key] = document
        if category is not None:
            self.events.append((category, key, "UPDATE" if previous is not None else "CREATE", document))

    def savepoint(self) -> int:
        return len(self.saved)

    def rollback(self, savepoint: int = 0) -> None:
        while len(self.saved) > savepoint:
            collection, key, previous = self.saved.pop()
            store = self.org.collection(collection)
            if previous is None:
                store.pop(key, None)
            else:
                store[key] = previous
        if savepoint == 0:
            self.org.sequences = Counter(self.sequences)
            self.events.clear()


def public(document: Document) -> Document:
    """A copy without the sandbox's internal ``_`` keys, at any depth."""
    cleaned: Document = {}
    for key, value in document.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            cleaned[key] = public(value)
        elif isinstance(value, list):
            cleaned[key] = [public(item) if isinstance(item, dict) else item for item in value]
        else:
            cleaned[key] = value
    return cleaned


def _new_id() -> str:
    return str(uuid.uuid4())


def _today(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def _set_date(document: Document, field_name: str, value: date) -> None:
    document[field_name] = ms_date_of(value)
    document[f"{field_name}String"] = date_string(value)


def _parse_date_field(element: Document, name: str, errors: list[str]) -> date | None:
    raw = element.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_date(str(raw))
    except ValueError:
        errors.append(f"{name} '{raw}' is not a valid date")
        return None


# --- contacts -------------------------------------------------------------------------------------------


def find_contact(org: Organisation, reference: Document) -> Document | None:
    contact_id = reference.get("ContactID")
    if contact_id:
        return org.contacts.get(str(contact_id).lower())
    number = reference.get("ContactNumber")
    if number:
        for contact in org.contacts.values():
            if contact.get("ContactNumber") == number:
                return contact
    name = reference.get("Name")
    if name:
        for contact in org.contacts.values():
            if (
                str(contact.get("Name", "")).lower() == str(name).lower()
                and contact["ContactStatus"] != "ARCHIVED"
            ):
                return contact
    return None


def _contact_clashes(org: Organisation, candidate: Document, own_id: str | None) -> list[str]:
    errors: list[str] = []
    name = str(candidate.get("Name") or "").strip().lower()
    number = candidate.get("ContactNumber")
    for contact in org.contacts.values():
        if contact["ContactID"] == own_id or contact.get("ContactStatus") == "ARCHIVED":
            continue
        if name and str(contact.get("Name", "")).strip().lower() == name:
            errors.append(
                f"The contact name {candidate['Name']} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )
        if number and contact.get("ContactNumber") == number:
            errors.append(f"The contact number {number} is already assigned to another contact.")
    return errors


def upsert_contact(batch: Batch, element: Document) -> Document:
    org = batch.org
    errors: list[str] = []
    existing: Document | None = None
    if element.get("ContactID"):
        existing = org.contacts.get(str(element["ContactID"]).lower())
        if existing is None:
            raise ValidationFailed([f"Contact with ContactID {element['ContactID']} could not be found"])
    if existing is None and not str(element.get("Name") or "").strip():
        errors.append("The contact name must be specified")
    merged: Document = copy.deepcopy(existing) if existing else {}
    for key, value in element.items():
        if key in ("ValidationErrors", "StatusAttributeString", "HasValidationErrors", "UpdatedDateUTC"):
            continue
        merged[key] = value
    if merged.get("ContactStatus", "ACTIVE") != "ARCHIVED":
        errors.extend(_contact_clashes(org, merged, existing["ContactID"] if existing else None))
    if errors:
        raise ValidationFailed(errors)
    contact_id = existing["ContactID"] if existing else _new_id()
    merged["ContactID"] = contact_id
    merged.setdefault("ContactStatus", "ACTIVE")
    merged.setdefault("IsSupplier", False)
    merged.setdefault("IsCustomer", False)
    for listed in ("Addresses", "Phones", "ContactGroups", "ContactPersons"):
        merged.setdefault(listed, [])
    merged["HasAttachments"] = False
    merged["HasValidationErrors"] = False
    batch.put("contacts", contact_id, merged, "CONTACT")
    return merged


def contact_summary(contact: Document) -> Document:
    summary: Document = {
        key: contact[key]
        for key in ("ContactID", "Name", "ContactNumber", "EmailAddress", "ContactStatus")
        if key in contact
    }
    summary["HasValidationErrors"] = False
    return summary


# --- items ----------------------------------------------------------------------------------------------


def find_item(org: Organisation, code_or_id: str) -> Document | None:
    if code_or_id.lower() in org.items:
        return org.items[code_or_id.lower()]
    for item in org.items.values():
        if item["Code"] == code_or_id:
            return item
    return None


def upsert_item(batch: Batch, element: Document) -> Document:
    org = batch.org
    existing = None
    if element.get("ItemID"):
        existing = org.items.get(str(element["ItemID"]).lower())
        if existing is None:
            raise ValidationFailed([f"Item with ItemID {element['ItemID']} could not be found"])
    elif element.get("Code"):
        existing = find_item(org, str(element["Code"]))
    errors: list[str] = []
    for details in ("SalesDetails", "PurchaseDetails"):
        account_code = (element.get(details) or {}).get("AccountCode")
        if account_code and _usable_account(org, str(account_code)) is None:
            errors.append(f"Account code '{account_code}' is not a valid code for this document.")
    if errors:
        raise ValidationFailed(errors)
    merged: Document = copy.deepcopy(existing) if existing else {}
    merged.update(
        {k: v for k, v in element.items() if k not in ("ValidationErrors", "StatusAttributeString")}
    )
    item_id = existing["ItemID"] if existing else _new_id()
    merged["ItemID"] = item_id
    merged.setdefault("IsSold", "SalesDetails" in merged)
    merged.setdefault("IsPurchased", "PurchaseDetails" in merged)
    merged.setdefault("IsTrackedAsInventory", False)
    batch.put("items", item_id, merged)
    return merged


# --- invoices and credit notes --------------------------------------------------------------------------


def _usable_account(org: Organisation, code: str) -> Document | None:
    account = org.account_by_code(code)
    if account is None or account.get("Status") != "ACTIVE":
        return None
    return account


def lock_date(org: Organisation) -> date | None:
    """The later of the organisation's period and end-of-year lock dates, when set."""
    found = [
        parse_date(str(org.organisation[name]))
        for name in ("PeriodLockDate", "EndOfYearLockDate")
        if org.organisation.get(name)
    ]
    return max(found) if found else None


def _locked(org: Organisation, day: date, errors: list[str]) -> None:
    """Xero refuses a posted document dated on or before the lock date (drafts post nothing)."""
    locked = lock_date(org)
    if locked is not None and day <= locked:
        errors.append(
            f"The document date cannot be on or before the lock date, currently set at {locked:%d %b %Y}."
        )


def _tracking(org: Organisation, raw: Any, index: int, errors: list[str]) -> list[Document]:
    """A line's ``Tracking`` checked against the organisation's active categories and options, each
    completed with both ids and names as Xero returns them."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        errors.append(f"Line {index}: Tracking must be a list of tracking categories.")
        return []
    if len(raw) > 2:
        errors.append("A line item can have a maximum of 2 tracking categories.")
    found: list[Document] = []
    for choice in raw:
        choice = choice if isinstance(choice, dict) else {}
        wanted_id = str(choice.get("TrackingCategoryID") or "").lower()
        wanted_name = str(choice.get("Name") or "").casefold()
        category = next(
            (
                c
                for c in org.tracking_categories.values()
                if c["Status"] == "ACTIVE"
                and (
                    c["TrackingCategoryID"] == wanted_id if wanted_id else c["Name"].casefold() == wanted_name
                )
            ),
            None,
        )
        if category is None:
            errors.append(
                f"The tracking category '{choice.get('Name') or choice.get('TrackingCategoryID')}' does not "
                "exist or has been archived."
            )
            continue
        option_id = str(choice.get("TrackingOptionID") or "").lower()
        option_name = str(choice.get("Option") or "").casefold()
        option = next(
            (
                o
                for o in category["Options"]
                if o["Status"] == "ACTIVE"
                and (o["TrackingOptionID"] == option_id if option_id else o["Name"].casefold() == option_name)
            ),
            None,
        )
        if option is None:
            errors.append(
                f"The tracking option '{choice.get('Option') or choice.get('TrackingOptionID')}' is not an "
                f"active option of tracking category '{category['Name']}'."
            )
            continue
        found.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    return found


def _tax_rate_percent(rate: Document) -> Decimal:
    return dec(rate["EffectiveRate"])


def _build_lines(
    org: Organisation,
    doc_type: str,
    element_lines: list[Document],
    line_amount_types: str,
    status: str,
    unitdp: int,
) -> tuple[list[Document], list[str], Decimal]:
    errors: list[str] = []
    lines: list[Document] = []
    total_discount = ZERO
    sales = doc_type in ("ACCREC", "ACCRECCREDIT")
    default_tax = org.organisation["_default_sales_tax" if sales else "_default_purchase_tax"]
    for index, raw in enumerate(element_lines, start=1):
        line: Document = {key: value for key, value in raw.items() if key != "ValidationErrors"}
        item = None
        if line.get("ItemCode"):
            item = find_item(org, str(line["ItemCode"]))
            if item is None:
                errors.append(f"Item code '{line['ItemCode']}' is not valid")
        details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails") or {}
        if item is not None:
            line.setdefault("Description", item.get("Description") or item.get("Name"))
            if "UnitAmount" not in line and "LineAmount" not in line and details.get("UnitPrice") is not None:
                line["UnitAmount"] = details["UnitPrice"]
            if not line.get("AccountCode") and details.get("AccountCode"):
                line["AccountCode"] = details["AccountCode"]
            if not line.get("TaxType") and details.get("TaxType"):
                line["TaxType"] = details["TaxType"]
        account = None
        if line.get("AccountID") and not line.get("AccountCode"):
            found = org.accounts.get(str(line["AccountID"]).lower())
            if found is not None:
                line["AccountCode"] = found["Code"]
        if line.get("AccountCode"):
            account = _usable_account(org, str(line["AccountCode"]))
            if account is None:
                errors.append(f"Account code '{line['AccountCode']}' is not a valid code for this document.")
        elif status == "AUTHORISED":
            errors.append(f"Line {index}: an account code must be specified for an AUTHORISED document.")
        if doc_type != "ACCREC" and (
            line.get("DiscountRate") is not None or line.get("DiscountAmount") is not None
        ):
            kind = "credit notes" if doc_type in CREDIT_NOTE_TYPES else "ACCPAY invoices"
            errors.append(f"Discounts are not supported on {kind}. Use a negative line instead.")
        tracking = _tracking(org, line.get("Tracking"), index, errors)
        tax_type = line.get("TaxType") or (account or {}).get("TaxType") or default_tax
        rate = org.tax_rates.get(str(tax_type))
        if rate is None or rate.get("Status") != "ACTIVE":
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."
            )
        elif account is not None and not rate.get(
            CLASS_FLAG.get(account["Class"], "CanApplyToRevenue"), False
        ):
            errors.append(
                f"The TaxType code '{tax_type}' cannot be used with account code '{account['Code']}'."
            )
        quantity = round_to(dec(line.get("Quantity", 1)), 4)
        discount_rate = dec(line["DiscountRate"]) if line.get("DiscountRate") is not None else None
        discount_amount = dec(line["DiscountAmount"]) if line.get("DiscountAmount") is not None else None
        if line.get("UnitAmount") is not None:
            unit = round_to(dec(line["UnitAmount"]), unitdp)
        elif line.get("LineAmount") is not None and quantity != 0:
            unit = round_to(dec(line["LineAmount"]) / quantity, unitdp)
        else:
            unit = ZERO
        amount, discount = line_amount(quantity, unit, discount_rate, discount_amount)
        total_discount += discount
        percent = _tax_rate_percent(rate) if rate is not None else ZERO
        if line_amount_types != "NoTax" and line.get("TaxAmount") is not None:
            tax = cents(dec(line["TaxAmount"]))  # Xero honours an explicit TaxAmount
        else:
            tax = line_tax(amount, percent, line_amount_types)
        line.update(
            {
                "LineItemID": str(line.get("LineItemID") or _new_id()),
                "Quantity": out(quantity),
                "UnitAmount": out(unit),
                "TaxType": tax_type,
                "TaxAmount": out(tax),
                "LineAmount": out(amount),
                "Tracking": tracking,
            }
        )
        line.setdefault("Description", "")
        if account is not None:
            line["AccountID"] = account["AccountID"]
        lines.append(line)
    return lines, errors, total_discount


def _resolve_contact(org: Organisation, reference: Any, errors: list[str]) -> tuple[Document | None, bool]:
    """The contact a document points at, and whether it must be created (Xero creates one by name)."""
    if not isinstance(reference, dict) or not any(
        reference.get(k) for k in ("ContactID", "ContactNumber", "Name")
    ):
        errors.append("A Contact must be specified for this type of transaction")
        return None, False
    contact = find_contact(org, reference)
    if contact is None:
        if reference.get("ContactID"):
            errors.append(f"Contact with ContactID {reference['ContactID']} could not be found")
            return None, False
        if not reference.get("Name"):
            errors.append(f"Contact with ContactNumber {reference.get('ContactNumber')} could not be found")
            return None, False
        return dict(reference), True
    if contact.get("ContactStatus") == "ARCHIVED":
        errors.append(
            f"The contact '{contact['Name']}' has been archived. Transactions cannot be created for archived contacts."
        )
    return contact, False


def _number_taken(
    org: Organisation, store: dict[str, Document], field_name: str, number: str, own: str | None
) -> bool:
    return any(
        doc.get(field_name, "").lower() == number.lower()
        and doc.get("Status") != "DELETED"
        and doc.get("Type") in ("ACCREC", "ACCRECCREDIT")
        and doc.get("_id") != own
        for doc in store.values()
    )


def upsert_document(batch: Batch, element: Document, kind: str, *, path_id: str | None = None) -> Document:
    """Create or update an invoice (``kind='invoice'``) or credit note (``kind='credit_note'``)."""
    org = batch.org
    is_invoice = kind == "invoice"
    collection = "invoices" if is_invoice else "credit_notes"
    store = org.collection(collection)
    id_field = "InvoiceID" if is_invoice else "CreditNoteID"
    number_field = "InvoiceNumber" if is_invoice else "CreditNoteNumber"
    category = "INVOICE" if is_invoice else "CREDITNOTE"
    types = INVOICE_TYPES if is_invoice else CREDIT_NOTE_TYPES
    label = "invoice" if is_invoice else "credit note"

    existing: Document | None = None
    wanted_id = path_id or element.get(id_field)
    if wanted_id:
        existing = store.get(str(wanted_id).lower()) or find_document(org, collection, str(wanted_id))
        if existing is None:
            raise ValidationFailed([f"{label.capitalize()} {wanted_id} could not be found"])

    if existing is not None:
        return _update_document(batch, existing, element, kind)

    errors: list[str] = []
    doc_type = element.get("Type")
    if doc_type not in types:
        errors.append(f"{label.capitalize()} Type must be one of {', '.join(types)}")
        doc_type = types[0]
    status = element.get("Status") or "DRAFT"
    if status not in CREATABLE_STATUSES:
        errors.append(f"A {label} cannot be created with status {status}.")
    contact, create_contact = _resolve_contact(org, element.get("Contact"), errors)
    currency = element.get("CurrencyCode") or org.base_currency
    if currency not in org.currencies:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    theme_id = element.get("BrandingThemeID")
    if theme_id and str(theme_id).lower() not in org.branding_themes:
        errors.append(f"Branding theme {theme_id} is not valid")
    number = element.get(number_field)
    if (
        number
        and doc_type in ("ACCREC", "ACCRECCREDIT")
        and _number_taken(org, store, number_field, number, None)
    ):
        errors.append("Invoice # must be unique." if is_invoice else "Credit Note # must be unique.")
    line_amount_types = element.get("LineAmountTypes") or "Exclusive"
    issue_date = _parse_date_field(element, "Date", errors) or _today(batch.now)
    due_date = _parse_date_field(element, "DueDate", errors)
    if status != "DRAFT":
        _locked(org, issue_date, errors)
    lines, line_errors, total_discount = _build_lines(
        org, doc_type, element.get("LineItems") or [], line_amount_types, status, batch.unitdp
    )
    errors.extend(line_errors)
    totals = document_totals(
        [(dec(line["LineAmount"]), dec(line["TaxAmount"])) for line in lines], line_amount_types
    )
    if totals["Total"] < 0:
        errors.append(f"The {label} total cannot be negative.")
    if errors:
        raise ValidationFailed(errors)

    if create_contact:
        assert contact is not None
        contact = upsert_contact(batch, {k: v for k, v in contact.items() if k != "ContactID"})
    assert contact is not None
    if doc_type in ("ACCPAY", "ACCPAYCREDIT") and not contact.get("IsSupplier"):
        batch.put("contacts", contact["ContactID"], {**copy.deepcopy(contact), "IsSupplier": True})
    if doc_type in ("ACCREC", "ACCRECCREDIT") and not contact.get("IsCustomer"):
        batch.put("contacts", contact["ContactID"], {**copy.deepcopy(contact), "IsCustomer": True})
    if not number and doc_type in ("ACCREC", "ACCRECCREDIT"):
        prefix = "INV" if is_invoice else "CN"
        org.sequences[prefix] += 1
        number = f"{prefix}-{org.sequences[prefix]:04d}"
        while _number_taken(org, store, number_field, number, None):
            org.sequences[prefix] += 1
            number = f"{prefix}-{org.sequences[prefix]:04d}"

    doc_id = _new_id()
    document: Document = {
        "Type": doc_type,
        id_field: doc_id,
        "_id": doc_id,
        number_field: number or "",
        "Reference": element.get("Reference", ""),
        "Contact": contact_summary(org.contacts[contact["ContactID"]]),
        "_contact_id": contact["ContactID"],
        "Status": status,
        "LineAmountTypes": line_amount_types,
        "LineItems": lines,
        "CurrencyCode": currency,
        "CurrencyRate": element.get("CurrencyRate", 1.0),
        "Payments": [],
        "HasAttachments": False,
        "HasErrors": False,
        "SentToContact": bool(element.get("SentToContact", False)),
    }
    if theme_id:
        document["BrandingThemeID"] = str(theme_id).lower()
    if element.get("Url"):
        document["Url"] = element["Url"]
    _set_date(document, "Date", issue_date)
    if due_date is not None:
        _set_date(document, "DueDate", due_date)
    if is_invoice:
        document.update(
            {
                "Prepayments": [],
                "Overpayments": [],
                "CreditNotes": [],
                "AmountPaid": 0.0,
                "AmountCredited": 0.0,
            }
        )
    else:
        document.update({"Allocations": [], "AppliedAmount": 0.0})
    _apply_totals(document, totals, total_discount, is_invoice)
    batch.put(collection, doc_id, document, category)
    return document


def _apply_totals(
    document: Document, totals: dict[str, Decimal], total_discount: Decimal, is_invoice: bool
) -> None:
    document["SubTotal"] = out(totals["SubTotal"])
    document["TotalTax"] = out(totals["TotalTax"])
    document["Total"] = out(totals["Total"])
    if is_invoice:
        document["TotalDiscount"] = out(total_discount)
        document["IsDiscounted"] = total_discount != 0
        settled = dec(document.get("AmountPaid", 0)) + dec(document.get("AmountCredited", 0))
        document["AmountDue"] = out(totals["Total"] - settled)
        # Xero marks an approved invoice with nothing to pay as paid straight away.
        if document.get("Status") == "AUTHORISED" and totals["Total"] == 0:
            document["Status"] = "PAID"
    else:
        used = dec(document.get("AppliedAmount", 0))
        document["RemainingCredit"] = out(totals["Total"] - used)


def _update_document(batch: Batch, existing: Document, element: Document, kind: str) -> Document:
    org = batch.org
    is_invoice = kind == "invoice"
    collection = "invoices" if is_invoice else "credit_notes"
    category = "INVOICE" if is_invoice else "CREDITNOTE"
    label = "invoice" if is_invoice else "credit note"
    current = existing["Status"]
    wanted = element.get("Status") or current
    settled = (
        dec(existing.get("AmountPaid", 0))
        + dec(existing.get("AmountCredited", 0))
        + dec(existing.get("AppliedAmount", 0))
    )
    if current in ("DELETED", "VOIDED"):
        raise ValidationFailed([f"This {label} is {current} and cannot be modified."])
    if wanted == "DELETED":
        if current not in ("DRAFT", "SUBMITTED"):
            raise ValidationFailed(
                [f"Only DRAFT or SUBMITTED documents can be deleted; this {label} is {current}."]
            )
        updated = copy.deepcopy(existing)
        updated["Status"] = "DELETED"
        batch.put(collection, existing["_id"], updated, category)
        return updated
    if wanted == "VOIDED":
        if current not in ("AUTHORISED",):
            raise ValidationFailed([f"Only AUTHORISED documents can be voided; this {label} is {current}."])
        if settled > 0:
            raise ValidationFailed(
                [
                    f"This {label} cannot be voided as it has payments or allocations applied. Remove them first."
                ]
            )
        updated = copy.deepcopy(existing)
        updated["Status"] = "VOIDED"
        if is_invoice:
            updated["AmountDue"] = 0.0
        batch.put(collection, existing["_id"], updated, category)
        return updated
    if current == "PAID" or settled > 0:
        raise ValidationFailed(
            [f"This {label} cannot be edited as it has a payment or credit note allocated to it."]
        )
    if wanted not in CREATABLE_STATUSES:
        raise ValidationFailed([f"A {label} cannot be changed to status {wanted}."])
    if current == "AUTHORISED" and wanted in ("DRAFT", "SUBMITTED"):
        raise ValidationFailed([f"An AUTHORISED {label} cannot be moved back to {wanted}."])
    errors: list[str] = []
    number_field = "InvoiceNumber" if is_invoice else "CreditNoteNumber"
    number = element.get(number_field)
    if (
        number
        and existing["Type"] in ("ACCREC", "ACCRECCREDIT")
        and _number_taken(org, org.collection(collection), number_field, number, existing["_id"])
    ):
        errors.append("Invoice # must be unique." if is_invoice else "Credit Note # must be unique.")
    merged = copy.deepcopy(existing)
    for key in (
        "Reference",
        "Url",
        "BrandingThemeID",
        "CurrencyCode",
        "LineAmountTypes",
        number_field,
        "SentToContact",
    ):
        if key in element:
            merged[key] = element[key]
    if merged.get("CurrencyCode") not in org.currencies:
        errors.append(f"Organisation is not subscribed to currency {merged.get('CurrencyCode')}")
    theme_id = merged.get("BrandingThemeID")
    if theme_id and str(theme_id).lower() not in org.branding_themes:
        errors.append(f"Branding theme {theme_id} is not valid")
    if "Contact" in element:
        contact, create = _resolve_contact(org, element["Contact"], errors)
        if create:
            errors.append("Contact could not be found")
        elif contact is not None:
            merged["Contact"] = contact_summary(contact)
            merged["_contact_id"] = contact["ContactID"]
    elif org.contacts.get(merged["_contact_id"], {}).get("ContactStatus") == "ARCHIVED":
        errors.append("The contact has been archived. Transactions cannot be changed for archived contacts.")
    for date_field in ("Date", "DueDate"):
        parsed = _parse_date_field(element, date_field, errors)
        if parsed is not None:
            _set_date(merged, date_field, parsed)
    merged["Status"] = wanted
    if wanted != "DRAFT":
        _locked(org, parse_date(str(merged["Date"])) if merged.get("Date") else _today(batch.now), errors)
    raw_lines: list[Document] = element.get("LineItems") or merged["LineItems"]
    lines, line_errors, total_discount = _build_lines(
        org, merged["Type"], raw_lines, merged["LineAmountTypes"], wanted, batch.unitdp
    )
    errors.extend(line_errors)
    totals = document_totals(
        [(dec(line["LineAmount"]), dec(line["TaxAmount"])) for line in lines], merged["LineAmountTypes"]
    )
    if totals["Total"] < 0:
        errors.append(f"The {label} total cannot be negative.")
    if errors:
        raise ValidationFailed(errors)
    merged["LineItems"] = lines
    _apply_totals(merged, totals, total_discount, is_invoice)
    batch.put(collection, existing["_id"], merged, category)
    return merged


def find_document(org: Organisation, collection: str, id_or_number: str) -> Document | None:
    store = org.collection(collection)
    if id_or_number.lower() in store:
        return store[id_or_number.lower()]
    number_field = "InvoiceNumber" if collection == "invoices" else "CreditNoteNumber"
    for document in store.values():
        if document.get(number_field) == id_or_number and document.get("Status") != "DELETED":
            return document
    return None


# --- payments -------------------------------------------------------------------------------------------


def _reference_to(org: Organisation, element: Document) -> tuple[str, Document | None, list[str]]:
    for key, collection, id_field, number_field in (
        ("Invoice", "invoices", "InvoiceID", "InvoiceNumber"),
        ("CreditNote", "credit_notes", "CreditNoteID", "CreditNoteNumber"),
    ):
        reference = element.get(key)
        if isinstance(reference, dict):
            wanted = reference.get(id_field) or reference.get(number_field)
            document = find_document(org, collection, str(wanted)) if wanted else None
            if document is None:
                return collection, None, [f"{key} could not be found"]
            return collection, document, []
    for number_field, collection in (("InvoiceNumber", "invoices"), ("CreditNoteNumber", "credit_notes")):
        if element.get(number_field):
            document = find_document(org, collection, str(element[number_field]))
            if document is None:
                return collection, None, [f"{number_field} {element[number_field]} could not be found"]
            return collection, document, []
    return "invoices", None, ["A payment must reference an Invoice or a CreditNote"]


def _payment_account(org: Organisation, reference: Any) -> tuple[Document | None, list[str]]:
    if not isinstance(reference, dict):
        return None, ["An Account must be specified for the payment"]
    account = None
    if reference.get("AccountID"):
        account = org.accounts.get(str(reference["AccountID"]).lower())
    elif reference.get("Code"):
        account = org.account_by_code(str(reference["Code"]))
    if account is None or account.get("Status") != "ACTIVE":
        return None, [f"Account {reference.get('Code') or reference.get('AccountID')} could not be found"]
    if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        return None, [
            f"Payments cannot be made to account '{account['Code']}'. Use a bank account or an account with "
            "payments enabled."
        ]
    return account, []


def create_payment(batch: Batch, element: Document) -> Document:
    org = batch.org
    if element.get("PaymentID") and str(element["PaymentID"]).lower() in org.payments:
        if element.get("Status") == "DELETED":
            return delete_payment(batch, str(element["PaymentID"]))
        raise ValidationFailed(["Payments cannot be edited; delete the payment and create it again."])
    errors: list[str] = []
    collection, document, found_errors = _reference_to(org, element)
    errors.extend(found_errors)
    account, account_errors = _payment_account(org, element.get("Account"))
    errors.extend(account_errors)
    amount = dec(element.get("Amount", 0))
    if amount <= 0:
        errors.append("Payment amount must be greater than zero")
    pay_date = _parse_date_field(element, "Date", errors) or _today(batch.now)
    _locked(org, pay_date, errors)
    is_invoice = collection == "invoices"
    if document is not None:
        if document["Status"] != "AUTHORISED":
            errors.append(
                f"Payments can only be made against AUTHORISED documents; this one is {document['Status']}."
            )
        outstanding = dec(document["AmountDue"] if is_invoice else document["RemainingCredit"])
        if amount > outstanding:
            errors.append("The payment amount exceeds the amount outstanding on this document.")
        if org.contacts.get(document["_contact_id"], {}).get("ContactStatus") == "ARCHIVED":
            errors.append("The contact has been archived. Payments cannot be made for archived contacts.")
    if errors:
        raise ValidationFailed(errors)
    assert document is not None
    assert account is not None
    payment_id = _new_id()
    types = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT"}
    payment: Document = {
        "PaymentID": payment_id,
        "Amount": out(cents(amount)),
        "BankAmount": out(cents(amount)),
        "CurrencyRate": element.get("CurrencyRate", 1.0),
        "Reference": element.get("Reference", ""),
        "IsReconciled": False,
        "Status": "AUTHORISED",
        "PaymentType": types.get(document["Type"], "APCREDITPAYMENT"),
        "HasAccount": True,
        "HasValidationErrors": False,
        "Account": {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]},
        "_target": (collection, document["_id"]),
    }
    _set_date(payment, "Date", pay_date)
    if is_invoice:
        payment["Invoice"] = {
            "InvoiceID": document["InvoiceID"],
            "InvoiceNumber": document["InvoiceNumber"],
            "Type": document["Type"],
            "CurrencyCode": document["CurrencyCode"],
            "Contact": document["Contact"],
        }
    else:
        payment["CreditNote"] = {
            "CreditNoteID": document["CreditNoteID"],
            "CreditNoteNumber": document["CreditNoteNumber"],
            "Type": document["Type"],
            "CurrencyCode": document["CurrencyCode"],
            "Contact": document["Contact"],
        }
    updated = copy.deepcopy(document)
    updated["Payments"].append(
        {k: payment[k] for k in ("PaymentID", "Date", "Amount", "Reference", "CurrencyRate", "HasAccount")}
    )
    _settle(updated, amount, is_invoice, "AmountPaid", pay_date)
    batch.put("payments", payment_id, payment)
    batch.put(collection, document["_id"], updated, "INVOICE" if is_invoice else "CREDITNOTE")
    return payment


def _settle(document: Document, amount: Decimal, is_invoice: bool, field_name: str, on: date) -> None:
    """Apply (or with a negative amount, undo) money against a document and fix its status."""
    if is_invoice:
        document[field_name] = out(dec(document.get(field_name, 0)) + amount)
        due = dec(document["AmountDue"]) - amount
        document["AmountDue"] = out(due)
    else:
        document["AppliedAmount"] = out(dec(document.get("AppliedAmount", 0)) + amount)
        due = dec(document["RemainingCredit"]) - amount
        document["RemainingCredit"] = out(due)
    if due == 0 and document["Status"] == "AUTHORISED":
        document["Status"] = "PAID"
        _set_date(document, "FullyPaidOnDate", on)
    elif due > 0 and document["Status"] == "PAID":
        document["Status"] = "AUTHORISED"
        document.pop("FullyPaidOnDate", None)
        document.pop("FullyPaidOnDateString", None)


def delete_payment(batch: Batch, payment_id: str) -> Document:
    org = batch.org
    payment = org.payments.get(payment_id.lower())
    if payment is None:
        raise ValidationFailed([f"Payment {payment_id} could not be found"])
    if payment["Status"] == "DELETED":
        raise ValidationFailed(["This payment has already been deleted."])
    collection, document_id = payment["_target"]
    document = org.collection(collection)[document_id]
    updated = copy.deepcopy(document)
    updated["Payments"] = [
        entry for entry in updated["Payments"] if entry["PaymentID"] != payment["PaymentID"]
    ]
    _settle(updated, -dec(payment["Amount"]), collection == "invoices", "AmountPaid", _today(batch.now))
    deleted = copy.deepcopy(payment)
    deleted["Status"] = "DELETED"
    batch.put("payments", payment["PaymentID"], deleted)
    batch.put(collection, document_id, updated, "INVOICE" if collection == "invoices" else "CREDITNOTE")
    return deleted


# --- allocations ----------------------------------------------------------------------------------------


def allocate_credit_note(batch: Batch, credit_note_id: str, element: Document) -> Document:
    org = batch.org
    credit_note = find_document(org, "credit_notes", credit_note_id)
    if credit_note is None:
        raise ValidationFailed([f"Credit note {credit_note_id} could not be found"])
    errors: list[str] = []
    reference = element.get("Invoice") or {}
    wanted = reference.get("InvoiceID") or reference.get("InvoiceNumber")
    invoice = find_document(org, "invoices", str(wanted)) if wanted else None
    amount = dec(element.get("Amount", 0))
    on = _parse_date_field(element, "Date", errors) or _today(batch.now)
    if credit_note["Status"] != "AUTHORISED":
        errors.append(f"Only AUTHORISED credit notes can be allocated; this one is {credit_note['Status']}.")
    if amount <= 0:
        errors.append("Allocation amount must be greater than zero")
    if amount > dec(credit_note["RemainingCredit"]):
        errors.append("The amount allocated exceeds the remaining credit on this credit note.")
    if invoice is None:
        errors.append("Invoice could not be found")
    else:
        if invoice["Status"] != "AUTHORISED":
            errors.append(
                f"Credit can only be allocated to AUTHORISED invoices; this one is {invoice['Status']}."
            )
        if {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}[credit_note["Type"]] != invoice["Type"]:
            errors.append("The credit note type does not match the invoice type.")
        if invoice["CurrencyCode"] != credit_note["CurrencyCode"]:
            errors.append("The credit note and invoice must be in the same currency.")
        if amount > dec(invoice["AmountDue"]):
            errors.append("The amount allocated exceeds the amount due on the invoice.")
    if errors:
        raise ValidationFailed(errors)
    assert invoice is not None
    allocation_id = _new_id()
    allocation: Document = {
        "AllocationID": allocation_id,
        "Amount": out(cents(amount)),
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
        "CreditNote": {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note["CreditNoteNumber"],
        },
        "IsDeleted": False,
    }
    _set_date(allocation, "Date", on)
    updated_note = copy.deepcopy(credit_note)
    updated_note["Allocations"].append(allocation)
    _settle(updated_note, amount, False, "AppliedAmount", on)
    updated_invoice = copy.deepcopy(invoice)
    updated_invoice["CreditNotes"].append(
        {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note["CreditNoteNumber"],
            "AppliedAmount": out(cents(amount)),
            "Total": credit_note["Total"],
        }
    )
    _settle(updated_invoice, amount, True, "AmountCredited", on)
    batch.put("credit_notes", credit_note["_id"], updated_note, "CREDITNOTE")
    batch.put("invoices", invoice["_id"], updated_invoice, "INVOICE")
    return allocation
