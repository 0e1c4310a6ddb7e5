"""The Accounting API routes (``/api.xro/2.0``): reads with filters and pages, batched writes.

Authentication, the tenant header, limits, faults and idempotency are handled before a request gets
here (see ``gate``); these handlers see a known organisation in ``request.scope``.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ledgerbridge.sandbox.xero import books
from ledgerbridge.sandbox.xero.books import Batch, ValidationFailed, public
from ledgerbridge.sandbox.xero.dates import ms_date, parse_date
from ledgerbridge.sandbox.xero.errors import bad_request, not_found, post_data_invalid, validation_exception
from ledgerbridge.sandbox.xero.openapi import schema_errors
from ledgerbridge.sandbox.xero.state import Document, Organisation, SandboxState
from ledgerbridge.sandbox.xero.webhooks import event_date
from ledgerbridge.sandbox.xero.where import WhereError, compile_where

PREFIX = "/api.xro/2.0"
router = APIRouter(prefix=PREFIX)

Operation = Callable[[Batch, Document], Document]

RESOURCE_PATHS = {"INVOICE": "Invoices", "CREDITNOTE": "CreditNotes", "CONTACT": "Contacts"}


def sandbox(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def organisation(request: Request) -> Organisation:
    return sandbox(request).orgs[request.scope["xero_tenant_id"]]


def envelope(key: str, records: list[Document], **extra: Any) -> dict[str, Any]:
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "ledgerbridge Xero sandbox",
        "DateTimeUTC": ms_date(time.time()),
        **extra,
        key: records,
    }


# --- reading --------------------------------------------------------------------------------------------


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _modified_since(request: Request) -> float | None:
    header = request.headers.get("if-modified-since")
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        try:
            day = parse_date(header)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def listing(
    request: Request,
    records: list[Document],
    key: str,
    *,
    paged: bool = True,
    max_page_size: int | None = None,
    shown: Callable[[Document], Document] = public,
) -> JSONResponse:
    params = request.query_params
    where = params.get("where")
    if where:
        try:
            predicate = compile_where(where)
        except WhereError as error:
            raise bad_request(str(error)) from error
        records = [record for record in records if predicate(record)]
    since = _modified_since(request)
    if since is not None:
        records = [record for record in records if record.get("_updated", 0) >= since]
    order = params.get("order")
    if order:
        field, _, direction = order.strip().partition(" ")
        records = sorted(
            records,
            key=lambda record: (record.get(field) is None, str(record.get(field, "")).lower()),
            reverse=direction.strip().upper() == "DESC",
        )
    extra: dict[str, Any] = {}
    if paged:
        config = sandbox(request).config
        try:
            page = max(1, int(params.get("page", "1")))
            size = int(params.get("pageSize", str(config.default_page_size)))
        except ValueError as error:
            raise bad_request("page and pageSize must be whole numbers") from error
        size = max(1, min(size, max_page_size or config.max_page_size))
        count = len(records)
        extra["pagination"] = {
            "page": page,
            "pageSize": size,
            "pageCount": math.ceil(count / size) if count else 0,
            "itemCount": count,
        }
        records = records[(page - 1) * size : page * size]
    return JSONResponse(envelope(key, [shown(record) for record in records], **extra))


def _one(records: dict[str, Document], key: str, found: Document | None) -> JSONResponse:
    if found is None:
        raise not_found()
    return JSONResponse(envelope(key, [public(found)]))


@router.get("/Organisation")
async def get_organisation(request: Request) -> JSONResponse:
    return JSONResponse(envelope("Organisations", [public(organisation(request).organisation)]))


@router.get("/Accounts")
async def get_accounts(request: Request) -> JSONResponse:
    return listing(request, list(organisation(request).accounts.values()), "Accounts", paged=False)


@router.get("/Accounts/{account_id}")
async def get_account(request: Request, account_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.accounts, "Accounts", org.accounts.get(account_id.lower()))


@router.get("/TaxRates")
async def get_tax_rates(request: Request) -> JSONResponse:
    rates = list(organisation(request).tax_rates.values())
    wanted = request.query_params.get("TaxType")
    if wanted:
        rates = [rate for rate in rates if rate["TaxType"] == wanted]
    return listing(request, rates, "TaxRates", paged=False)


@router.get("/BrandingThemes")
async def get_branding_themes(request: Request) -> JSONResponse:
    return listing(
        request, list(organisation(request).branding_themes.values()), "BrandingThemes", paged=False
    )


@router.get("/BrandingThemes/{theme_id}")
async def get_branding_theme(request: Request, theme_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.branding_themes, "BrandingThemes", org.branding_themes.get(theme_id.lower()))


@router.get("/Currencies")
async def get_currencies(request: Request) -> JSONResponse:
    return listing(request, list(organisation(request).currencies.values()), "Currencies", paged=False)


def _tracking_view(category: Document, include_archived: bool) -> Document:
    options = category.get("Options") or []
    return {
        **category,
        "Options": [o for o in options if include_archived or o.get("Status") == "ACTIVE"],
    }


@router.get("/TrackingCategories")
async def get_tracking_categories(request: Request) -> JSONResponse:
    # Xero leaves archived categories and options out unless includeArchived=true.
    include_archived = request.query_params.get("includeArchived", "false").lower() == "true"
    categories = [
        _tracking_view(category, include_archived)
        for category in organisation(request).tracking_categories.values()
        if include_archived or category.get("Status") == "ACTIVE"
    ]
    return listing(request, categories, "TrackingCategories", paged=False)


@router.get("/TrackingCategories/{category_id}")
async def get_tracking_category(request: Request, category_id: str) -> JSONResponse:
    org = organisation(request)
    found = org.tracking_categories.get(category_id.lower())
    return _one(org.tracking_categories, "TrackingCategories", found and _tracking_view(found, True))


@router.get("/Contacts")
async def get_contacts(request: Request) -> JSONResponse:
    params = request.query_params
    contacts = list(organisation(request).contacts.values())
    ids = {value.lower() for value in _csv(params.get("IDs"))}
    if ids:
        contacts = [contact for contact in contacts if contact["ContactID"] in ids]
    if params.get("includeArchived", "false").lower() != "true" and not ids:
        contacts = [contact for contact in contacts if contact.get("ContactStatus") != "ARCHIVED"]
    term = (params.get("searchTerm") or "").lower()
    if term:
        searched = ("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress")
        contacts = [c for c in contacts if any(term in str(c.get(field) or "").lower() for field in searched)]
    if params.get("summaryOnly", "false").lower() == "true":
        return listing(request, contacts, "Contacts", shown=_contact_summary)
    return listing(request, contacts, "Contacts")


# summaryOnly=true: "only lightweight fields, excluding computation-heavy fields" (the spec's words);
# addresses, phones, people, groups, balances and the rest of the full record are left out.
_SUMMARY_FIELDS = (
    "ContactID",
    "ContactNumber",
    "ContactStatus",
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "IsSupplier",
    "IsCustomer",
    "UpdatedDateUTC",
    "HasAttachments",
    "HasValidationErrors",
)


def _contact_summary(contact: Document) -> Document:
    full = public(contact)
    return {key: full[key] for key in _SUMMARY_FIELDS if key in full}


@router.get("/Contacts/{contact_id}")
async def get_contact(request: Request, contact_id: str) -> JSONResponse:
    org = organisation(request)
    found = org.contacts.get(contact_id.lower()) or books.find_contact(org, {"ContactNumber": contact_id})
    return _one(org.contacts, "Contacts", found)


def _document_listing(
    request: Request, collection: str, key: str, id_field: str, number_field: str
) -> JSONResponse:
    params = request.query_params
    documents = list(organisation(request).collection(collection).values())
    ids = {value.lower() for value in _csv(params.get("IDs"))}
    if ids:
        documents = [doc for doc in documents if doc[id_field] in ids]
    numbers = set(_csv(params.get(f"{number_field}s")))
    if numbers:
        documents = [doc for doc in documents if doc.get(number_field) in numbers]
    contact_ids = {value.lower() for value in _csv(params.get("ContactIDs"))}
    if contact_ids:
        documents = [doc for doc in documents if doc["_contact_id"] in contact_ids]
    statuses = {value.upper() for value in _csv(params.get("Statuses"))}
    if statuses:
        documents = [doc for doc in documents if doc["Status"] in statuses]
    return listing(request, documents, key)


@router.get("/Invoices")
async def get_invoices(request: Request) -> JSONResponse:
    return _document_listing(request, "invoices", "Invoices", "InvoiceID", "InvoiceNumber")


@router.get("/Invoices/{invoice_id}")
async def get_invoice(request: Request, invoice_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.invoices, "Invoices", books.find_document(org, "invoices", invoice_id))


@router.get("/CreditNotes")
async def get_credit_notes(request: Request) -> JSONResponse:
    return _document_listing(request, "credit_notes", "CreditNotes", "CreditNoteID", "CreditNoteNumber")


@router.get("/CreditNotes/{credit_note_id}")
async def get_credit_note(request: Request, credit_note_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.credit_notes, "CreditNotes", books.find_document(org, "credit_notes", credit_note_id))


@router.get("/Payments")
async def get_payments(request: Request) -> JSONResponse:
    return listing(request, list(organisation(request).payments.values()), "Payments")


@router.get("/Payments/{payment_id}")
async def get_payment(request: Request, payment_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.payments, "Payments", org.payments.get(payment_id.lower()))


@router.get("/Items")
async def get_items(request: Request) -> JSONResponse:
    return listing(request, list(organisation(request).items.values()), "Items", paged=False)


@router.get("/Items/{item_id}")
async def get_item(request: Request, item_id: str) -> JSONResponse:
    org = organisation(request)
    return _one(org.items, "Items", books.find_item(org, item_id))


# --- writing --------------------------------------------------------------------------------------------


async def elements(request: Request, plural: str, singular: str) -> list[Document]:
    """The batch in the body, after checking it against the official schema."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError as error:
        raise post_data_invalid([f"<root>: body is not valid JSON ({error})"]) from error
    if isinstance(body, dict) and plural in body:
        problems = schema_errors(plural, body)
        items = body.get(plural)
    elif isinstance(body, dict):
        problems = schema_errors(singular, body)
        items = [body]
    else:
        raise post_data_invalid([f"<root>: expected an object with {plural}"])
    if problems:
        raise post_data_invalid(problems)
    if not isinstance(items, list):
        raise post_data_invalid([f"{plural}: expected a list"])
    return items


def webhook_events(request: Request, batch: Batch) -> list[dict[str, Any]]:
    state = sandbox(request)
    base = (state.config.public_base_url or str(request.base_url)).rstrip("/")
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for category, resource_id, event_type, document in batch.events:
        key = (category, resource_id)
        if key in seen:
            # Several changes to one resource in one request are one event; a creation stays a creation.
            if event_type == "CREATE":
                seen[key]["eventType"] = "CREATE"
            if category == "CREDITNOTE":
                seen[key]["data"] = {"Type": document["Type"], "Status": document["Status"]}
            continue
        event: dict[str, Any] = {
            "resourceUrl": f"{base}{PREFIX}/{RESOURCE_PATHS[category]}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": event_date(batch.now),
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": batch.org.tenant_id,
            "tenantType": "ORGANISATION",
        }
        if category == "CREDITNOTE":
            event["data"] = {"Type": document["Type"], "Status": document["Status"]}
        seen[key] = event
    return list(seen.values())


def run_batch(request: Request, items: list[Document], operation: Operation, key: str) -> JSONResponse:
    state = sandbox(request)
    org = organisation(request)
    params = request.query_params
    summarize = params.get("summarizeErrors", "true").lower() != "false"
    unitdp = 4 if params.get("unitdp") == "4" else 2
    batch = Batch(org, state.now(), unitdp=unitdp)
    results: list[Document] = []
    failed: list[Document] = []
    for element in items:
        savepoint = batch.savepoint()
        try:
            document = operation(batch, element)
        except ValidationFailed as error:
            if savepoint:
                batch.rollback(savepoint)
            echoed = {k: v for k, v in element.items() if k != "ValidationErrors"}
            echoed.update(
                {
                    "HasErrors": True,
                    "StatusAttributeString": "ERROR",
                    "ValidationErrors": [{"Message": message} for message in error.messages],
                }
            )
            results.append(echoed)
            failed.append(echoed)
            continue
        shown = public(document)
        shown["StatusAttributeString"] = "OK"
        results.append(shown)
    if failed and summarize:
        batch.rollback()
        raise validation_exception(failed)
    state.webhooks.emit(webhook_events(request, batch))
    return JSONResponse(envelope(key, results))


@router.api_route("/Contacts", methods=["PUT", "POST"])
async def write_contacts(request: Request) -> JSONResponse:
    return run_batch(
        request, await elements(request, "Contacts", "Contact"), books.upsert_contact, "Contacts"
    )


@router.post("/Contacts/{contact_id}")
async def update_contact(request: Request, contact_id: str) -> JSONResponse:
    items = await elements(request, "Contacts", "Contact")
    items = [{**item, "ContactID": contact_id} for item in items[:1]]
    return run_batch(request, items, books.upsert_contact, "Contacts")


def _invoice_op(batch: Batch, element: Document) -> Document:
    return books.upsert_document(batch, element, "invoice")


def _credit_note_op(batch: Batch, element: Document) -> Document:
    return books.upsert_document(batch, element, "credit_note")


@router.api_route("/Invoices", methods=["PUT", "POST"])
async def write_invoices(request: Request) -> JSONResponse:
    items = await elements(request, "Invoices", "Invoice")
    if request.method == "PUT" and any(item.get("InvoiceID") for item in items):
        # PUT only creates in Xero; an id means the client meant POST.
        raise post_data_invalid(["PUT /Invoices creates invoices; use POST to update one by InvoiceID"])
    return run_batch(request, items, _invoice_op, "Invoices")


@router.post("/Invoices/{invoice_id}")
async def update_invoice(request: Request, invoice_id: str) -> JSONResponse:
    items = (await elements(request, "Invoices", "Invoice"))[:1]

    def operation(batch: Batch, element: Document) -> Document:
        return books.upsert_document(batch, element, "invoice", path_id=invoice_id)

    return run_batch(request, items, operation, "Invoices")


@router.api_route("/CreditNotes", methods=["PUT", "POST"])
async def write_credit_notes(request: Request) -> JSONResponse:
    return run_batch(
        request, await elements(request, "CreditNotes", "CreditNote"), _credit_note_op, "CreditNotes"
    )


@router.post("/CreditNotes/{credit_note_id}")
async def update_credit_note(request: Request, credit_note_id: str) -> JSONResponse:
    items = (await elements(request, "CreditNotes", "CreditNote"))[:1]

    def operation(batch: Batch, element: Document) -> Document:
        return books.upsert_document(batch, element, "credit_note", path_id=credit_note_id)

    return run_batch(request, items, operation, "CreditNotes")


@router.put("/CreditNotes/{credit_note_id}/Allocations")
async def allocate_credit_note(request: Request, credit_note_id: str) -> JSONResponse:
    items = await elements(request, "Allocations", "Allocation")

    def operation(batch: Batch, element: Document) -> Document:
        return books.allocate_credit_note(batch, credit_note_id, element)

    return run_batch(request, items, operation, "Allocations")


@router.api_route("/Payments", methods=["PUT", "POST"])
async def write_payments(request: Request) -> JSONResponse:
    return run_batch(
        request, await elements(request, "Payments", "Payment"), books.create_payment, "Payments"
    )


@router.post("/Payments/{payment_id}")
async def delete_payment(request: Request, payment_id: str) -> JSONResponse:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError as error:
        raise post_data_invalid([f"<root>: body is not valid JSON ({error})"]) from error
    if isinstance(body, dict) and "Payments" in body:
        problems = schema_errors("Payments", body)
        body = (body.get("Payments") or [{}])[0]
    else:
        problems = schema_errors("PaymentDelete", body)
    if problems:
        raise post_data_invalid(problems)
    if not isinstance(body, dict) or body.get("Status") != "DELETED":
        raise post_data_invalid(['Status: a payment can only be changed to "DELETED"'])
    if payment_id.lower() not in organisation(request).payments:
        raise not_found()

    def operation(batch: Batch, element: Document) -> Document:
        return books.delete_payment(batch, payment_id)

    return run_batch(request, [body], operation, "Payments")


@router.api_route("/Items", methods=["PUT", "POST"])
async def write_items(request: Request) -> JSONResponse:
    return run_batch(request, await elements(request, "Items", "Item"), books.upsert_item, "Items")
