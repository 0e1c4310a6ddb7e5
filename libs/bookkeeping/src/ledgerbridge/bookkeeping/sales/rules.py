"""Single rules of SPEC §4 that need no line arithmetic: statuses, contact, templates, dates, tax
exceptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge.bookkeeping import templates
from ledgerbridge.bookkeeping.sales.inputs import Contact, TaxException
from ledgerbridge.bookkeeping.sales.transaction import Transaction, TransactionStatus

XERO_NAME_MAX = 255
# Xero's Address and Phone limits (xero_accounting.yaml).
XERO_ADDRESS_LINE_MAX = 500
XERO_PLACE_MAX = 255
XERO_COUNTRY_MAX = 50
XERO_POSTAL_CODE_MAX = 50
XERO_PHONE_MAX = 50

STATUS_WORDS = {
    TransactionStatus.UNPAID: "unpaid",
    TransactionStatus.PAID: "paid",
    TransactionStatus.REFUNDED: "refunded",
    TransactionStatus.PARTIALLY_REFUNDED: "partially refunded",
    TransactionStatus.VOID: "void",
    TransactionStatus.DECLINED: "declined",
    TransactionStatus.WRITTEN_OFF: "written off",
    TransactionStatus.PENDING: "pending",
}

NEVER_SYNCED = frozenset(
    {TransactionStatus.DECLINED, TransactionStatus.WRITTEN_OFF, TransactionStatus.PENDING}
)
"""No money changed hands (yet): these never become invoices."""


def contact_name_for_clash(name: str, email: str) -> str:
    """The Xero contact name to use when ``name`` is taken by a different person: ``Name (email)``."""
    suffix = f" ({email})"
    return name[: XERO_NAME_MAX - len(suffix)] + suffix


def _last_name(transaction: Transaction, contact: Contact | None) -> str:
    if contact is not None and contact.last_name:
        return contact.last_name
    words = (transaction.contact_name or "").split()
    return words[-1] if len(words) > 1 else ""


def template_values(transaction: Transaction, contact: Contact | None) -> dict[str, str]:
    """Values for the invoice number, reference and URL templates (blank when unknown)."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "transaction_id": text(transaction.id),
        # ONTRAPORT documents no invoice_id on a transaction: its invoice number is the transaction's
        # id (its Purchase objects carry invoice_id = that id), SPEC §4 item 3.
        "invoice_id": text(transaction.id),
        "order_id": text(transaction.order_id),
        "external_order_id": text(transaction.external_order_id),
        "contact_id": text(transaction.contact_id),
        "first_name": text(contact.first_name if contact is not None else None),
        "last_name": _last_name(transaction, contact),
        "gateway_id": text(transaction.gateway_id),
    }


def render(template: str, values: dict[str, str]) -> str:
    return templates.render(template, values)


def local_date(unix_seconds: int, time_zone: str) -> str:
    """The calendar date (YYYY-MM-DD) of an instant in the tenant's time zone."""
    return datetime.fromtimestamp(unix_seconds, UTC).astimezone(ZoneInfo(time_zone)).date().isoformat()


def contact_body(transaction: Transaction, contact: Contact | None) -> dict[str, Any]:
    """Xero Contact for the buyer, keyed by ``ContactNumber`` ``OP-<contact_id>``, with the details
    ONTRAPORT has: name parts, email, phones and the postal address (Xero prints ``POBOX`` on invoices)."""
    first = contact.first_name if contact is not None else None
    last = contact.last_name if contact is not None else None
    email = contact.email if contact is not None else None
    name = (
        " ".join(part for part in (first, last) if part)
        or transaction.contact_name
        or email
        or f"ONTRAPORT contact {transaction.contact_id}"
    )
    body: dict[str, Any] = {"ContactNumber": f"OP-{transaction.contact_id}", "Name": name[:XERO_NAME_MAX]}
    for key, value in (("FirstName", first), ("LastName", last), ("EmailAddress", email)):
        if value:
            body[key] = value[:XERO_NAME_MAX]
    if contact is not None:
        phones = [
            {"PhoneType": kind, "PhoneNumber": number[:XERO_PHONE_MAX]}
            for kind, number in (("DEFAULT", contact.phone), ("MOBILE", contact.mobile))
            if number
        ]
        if phones:
            body["Phones"] = phones
        address = {
            key: value[:limit]
            for key, value, limit in (
                ("AddressLine1", contact.address, XERO_ADDRESS_LINE_MAX),
                ("AddressLine2", contact.address2, XERO_ADDRESS_LINE_MAX),
                ("City", contact.city, XERO_PLACE_MAX),
                ("Region", contact.region, XERO_PLACE_MAX),
                ("PostalCode", contact.postal_code, XERO_POSTAL_CODE_MAX),
                ("Country", contact.country, XERO_COUNTRY_MAX),
            )
            if value
        }
        if address:
            body["Addresses"] = [{"AddressType": "POBOX", **address}]
    return body


def matching_tax_exception(
    rules: tuple[TaxException, ...], transaction: Transaction, contact: Contact | None
) -> TaxException | None:
    """The first rule whose every set filter matches the sale, if any."""
    email = (contact.email or "").strip().lower() if contact is not None else ""
    domain = email.rpartition("@")[2]
    country = (contact.country or "").strip().lower() if contact is not None else ""
    tags = {tag.strip().lower() for tag in contact.tags} if contact is not None else set()
    product_ids = {product.id for product in transaction.offer.products if product.id is not None}
    for rule in rules:
        checks = (
            not rule.emails or email in {value.strip().lower() for value in rule.emails},
            not rule.email_domains
            or domain in {value.strip().lower().lstrip("@") for value in rule.email_domains},
            not rule.countries or country in {value.strip().lower() for value in rule.countries},
            not rule.tags or bool(tags & {value.strip().lower() for value in rule.tags}),
            not rule.gateway_ids or transaction.gateway_id in rule.gateway_ids,
            not rule.product_ids or bool(product_ids & rule.product_ids),
        )
        if all(checks):
            return rule
    return None
