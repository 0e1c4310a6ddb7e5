"""The Xero Accounting API for one organisation, as the publisher and the API use it.

Every call goes through the shared rate limiter, carries a fresh bearer token and the tenant header, and
fails with an error the task wrapper can classify: ``TransientError`` (retry), ``UnknownOutcomeError``
(retry, but look the document up first: the create may have happened) or ``PermanentError`` (show it).
Batches always use ``summarizeErrors=false`` so one bad document cannot fail the other 49.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ledgerbridge.common.clients.partner import PartnerRequests, UnknownOutcomeError
from ledgerbridge.common.clients.xero.limiter import OrganisationLimits, Pace, RateLimiter
from ledgerbridge.common.clients.xero.tokens import AccessTokenProvider
from ledgerbridge.common.clients.xero.wire import BearerToken, XeroNotFoundError, error_message, xero_policy
from ledgerbridge.common.messaging.errors import PermanentError
from ledgerbridge.common.settings import XeroSettings

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_BATCH",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "ElementResult",
    "UnknownOutcomeError",
    "XeroClient",
    "XeroNotFoundError",
    "element_result",
    "parse_batch",
]

MAX_BATCH = 50
MAX_IDEMPOTENCY_KEY_LENGTH = 128
DEFAULT_TIMEOUT_SECONDS = 30.0

# Per batch resource: the element's id field and its number field (payments have no number).
_FIELDS: dict[str, tuple[str, str | None]] = {
    "Contacts": ("ContactID", "ContactNumber"),
    "Invoices": ("InvoiceID", "InvoiceNumber"),
    "Payments": ("PaymentID", None),
    "CreditNotes": ("CreditNoteID", "CreditNoteNumber"),
    "Allocations": ("AllocationID", None),
}


@dataclass(frozen=True)
class ElementResult:
    """What Xero said about one document of a batch, in the order it was sent."""

    index: int
    ok: bool
    xero_id: str | None
    number: str | None
    errors: list[str]
    body: dict[str, Any]


def element_result(index: int, element: dict[str, Any], resource: str) -> ElementResult:
    id_field, number_field = _FIELDS[resource]
    errors = [
        str(error.get("Message", error)) if isinstance(error, dict) else str(error)
        for error in element.get("ValidationErrors") or []
    ]
    failed = (
        bool(errors) or element.get("HasErrors") is True or element.get("StatusAttributeString") == "ERROR"
    )
    xero_id = element.get(id_field)
    number = element.get(number_field) if number_field else None
    return ElementResult(
        index=index,
        ok=not failed,
        xero_id=str(xero_id) if xero_id and not failed else None,
        number=str(number) if number else None,
        errors=errors or (["Xero reported an error without a message"] if failed else []),
        body=element,
    )


def parse_batch(response: httpx.Response, resource: str, sent: int) -> list[ElementResult]:
    """Per-document results of a batch answer (200, or a 400 ValidationException listing every element)."""
    body = response.json() if response.status_code in (200, 400) else None
    if response.status_code == 200 and isinstance(body, dict):
        elements = body.get(resource)
    elif (
        # Xero sometimes still fails a whole batch with a ValidationException listing every element.
        response.status_code == 400
        and isinstance(body, dict)
        and body.get("Type") == "ValidationException"
        and len(body.get("Elements") or []) == sent
    ):
        elements = body["Elements"]
    else:
        raise PermanentError(f"Xero rejected the {resource} batch: {error_message(response)}")
    if not isinstance(elements, list) or len(elements) != sent:
        raise PermanentError(f"Xero answered a {resource} batch of {sent} with an unexpected body")
    return [element_result(index, element, resource) for index, element in enumerate(elements)]


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _all_of(*clauses: str | None) -> str | None:
    present = [clause for clause in clauses if clause]
    if not present:
        return None
    return present[0] if len(present) == 1 else " AND ".join(f"({clause})" for clause in present)


def _csv(values: Sequence[str] | None) -> str | None:
    return ",".join(values) if values else None


def _params(**values: str | int | None) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}


class XeroClient:
    """One organisation's accounting API. Safe to share between tasks of one process."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: XeroSettings,
        limiter: RateLimiter,
        tokens: AccessTokenProvider,
        tenant_id: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.tenant_id = tenant_id
        self._limiter = limiter
        self._requests = PartnerRequests(
            xero_policy(timeout),
            http,
            f"{settings.api_url.rstrip('/')}/",
            BearerToken(tokens, tenant_id),
            OrganisationLimits(limiter, tenant_id),
        )

    async def pace(self) -> Pace:
        """How much of the organisation's minute and hour its recent calls used (no call to Xero)."""
        return await self._limiter.pace(self.tenant_id)

    # --- batched creates ----------------------------------------------------------------------------

    async def put_contacts(
        self, contacts: Sequence[Mapping[str, Any]], *, idempotency_key: str
    ) -> list[ElementResult]:
        return await self._put_batch("Contacts", contacts, idempotency_key)

    async def post_contacts(
        self, contacts: Sequence[Mapping[str, Any]], *, idempotency_key: str
    ) -> list[ElementResult]:
        """Updates existing contacts (each element carries its ``ContactID``), many per call."""
        return await self._put_batch("Contacts", contacts, idempotency_key, method="POST")

    async def put_invoices(
        self, invoices: Sequence[Mapping[str, Any]], unitdp4: bool = False, *, idempotency_key: str
    ) -> list[ElementResult]:
        """Sales invoices and bills; ``unitdp4`` when unit prices carry four decimals."""
        return await self._put_batch("Invoices", invoices, idempotency_key, unitdp4=unitdp4)

    async def put_payments(
        self, payments: Sequence[Mapping[str, Any]], *, idempotency_key: str
    ) -> list[ElementResult]:
        return await self._put_batch("Payments", payments, idempotency_key)

    async def put_credit_notes(
        self, credit_notes: Sequence[Mapping[str, Any]], unitdp4: bool = False, *, idempotency_key: str
    ) -> list[ElementResult]:
        return await self._put_batch("CreditNotes", credit_notes, idempotency_key, unitdp4=unitdp4)

    async def _put_batch(
        self,
        resource: str,
        documents: Sequence[Mapping[str, Any]],
        idempotency_key: str,
        *,
        unitdp4: bool = False,
        method: str = "PUT",
    ) -> list[ElementResult]:
        if len(documents) > MAX_BATCH:
            raise ValueError(f"Xero takes at most {MAX_BATCH} {resource} per call, got {len(documents)}")
        if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError(f"an Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
        if not documents:
            return []
        params = {"summarizeErrors": "false", **({"unitdp": "4"} if unitdp4 else {})}
        response = await self._request(
            method,
            resource,
            params=params,
            body={resource: [dict(document) for document in documents]},
            idempotency_key=idempotency_key,
            creates=method == "PUT",
        )
        return parse_batch(response, resource, len(documents))

    # --- changes to existing documents ---------------------------------------------------------------

    async def post_invoice_status(self, id_or_number: str, status: str) -> ElementResult:
        """Moves an invoice to ``status`` (``AUTHORISED``, ``VOIDED``, ``DELETED``…)."""
        response = await self._request(
            "POST",
            f"Invoices/{id_or_number}",
            params={"summarizeErrors": "false"},
            body={"Invoices": [{"Status": status}]},
        )
        return parse_batch(response, "Invoices", 1)[0]

    async def update_credit_note(self, credit_note_id: str, body: Mapping[str, Any]) -> ElementResult:
        """Changes a credit note (its number, or its status to ``VOIDED``/``DELETED``)."""
        response = await self._request(
            "POST",
            f"CreditNotes/{credit_note_id}",
            params={"summarizeErrors": "false"},
            body={"CreditNotes": [dict(body)]},
        )
        return parse_batch(response, "CreditNotes", 1)[0]

    async def update_invoice(self, invoice_id: str, body: Mapping[str, Any]) -> ElementResult:
        """Replaces an invoice's or bill's content (Xero allows it while nothing is paid on it)."""
        response = await self._request(
            "POST",
            f"Invoices/{invoice_id}",
            params={"summarizeErrors": "false"},
            body={"Invoices": [dict(body)]},
        )
        return parse_batch(response, "Invoices", 1)[0]

    async def allocate_credit_note(self, credit_note_id: str, allocation: Mapping[str, Any]) -> ElementResult:
        """Allocates (part of) a credit note to an invoice or bill: ``{"Invoice", "Amount", "Date"}``."""
        response = await self._request(
            "PUT",
            f"CreditNotes/{credit_note_id}/Allocations",
            params={"summarizeErrors": "false"},
            body={"Allocations": [dict(allocation)]},
        )
        return parse_batch(response, "Allocations", 1)[0]

    async def delete_payment(self, payment_id: str) -> ElementResult:
        """Payments cannot be edited in Xero, only deleted (and made again)."""
        response = await self._request(
            "POST", f"Payments/{payment_id}", params={"summarizeErrors": "false"}, body={"Status": "DELETED"}
        )
        return parse_batch(response, "Payments", 1)[0]

    # --- reads ----------------------------------------------------------------------------------------

    async def get_invoices(
        self,
        *,
        invoice_numbers: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        contact_ids: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        where: str | None = None,
        page: int | None = None,
    ) -> list[dict[str, Any]]:
        params = _params(
            InvoiceNumbers=_csv(invoice_numbers),
            IDs=_csv(ids),
            ContactIDs=_csv(contact_ids),
            Statuses=_csv(statuses),
            where=where,
            page=page,
        )
        return await self._list("Invoices", params)

    async def get_contacts(
        self,
        *,
        where: str | None = None,
        contact_numbers: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        search_term: str | None = None,
        is_supplier: bool | None = None,
        page: int | None = None,
        page_size: int | None = None,
        include_archived: bool = False,
        summary_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Contacts matching every filter given; ``summary_only`` asks Xero for the lightweight fields."""
        numbers = (
            " OR ".join(f"ContactNumber=={_quote(number)}" for number in contact_numbers)
            if contact_numbers
            else None
        )
        supplier = None if is_supplier is None else f"IsSupplier=={str(is_supplier).lower()}"
        params = _params(
            where=_all_of(where, numbers, supplier),
            IDs=_csv(ids),
            searchTerm=search_term,
            page=page,
            pageSize=page_size,
            includeArchived="true" if include_archived else None,
            summaryOnly="true" if summary_only else None,
        )
        return await self._list("Contacts", params)

    async def get_credit_notes(
        self, *, where: str | None = None, page: int | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("CreditNotes", _params(where=where, page=page))

    async def get_payments(
        self, *, where: str | None = None, page: int | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("Payments", _params(where=where, page=page))

    async def get_organisation(self) -> dict[str, Any]:
        organisations = await self._list("Organisation", {}, key="Organisations")
        if not organisations:
            raise PermanentError("Xero returned no organisation for this tenant")
        return organisations[0]

    async def get_accounts(self, *, where: str | None = None) -> list[dict[str, Any]]:
        return await self._list("Accounts", _params(where=where))

    async def get_tax_rates(self, *, where: str | None = None) -> list[dict[str, Any]]:
        return await self._list("TaxRates", _params(where=where))

    async def get_branding_themes(self) -> list[dict[str, Any]]:
        return await self._list("BrandingThemes", {})

    async def get_currencies(self) -> list[dict[str, Any]]:
        return await self._list("Currencies", {})

    async def get_tracking_categories(self) -> list[dict[str, Any]]:
        """Active categories with their active options (Xero leaves archived ones out by default)."""
        return await self._list("TrackingCategories", {})

    async def _list(
        self, path: str, params: dict[str, str], *, key: str | None = None
    ) -> list[dict[str, Any]]:
        response = await self._request("GET", path, params=params)
        if response.status_code != 200:
            raise PermanentError(f"Xero refused GET {path}: {error_message(response)}")
        records = response.json().get(key or path)
        if not isinstance(records, list):
            raise PermanentError(f"Xero's GET {path} answer has no {key or path} list")
        return records

    # --- the wire -------------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        creates: bool = False,
    ) -> httpx.Response:
        """One logical call; answers 200 or 400 (the caller reads those), raises for the rest."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        return await self._requests.send(
            method, path, params=params, json=body, headers=headers, creates=creates
        )
