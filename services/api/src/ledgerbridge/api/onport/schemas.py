"""What the Onport endpoints answer with."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from ledgerbridge.api.records.schemas import XeroLink
from ledgerbridge.common.models import RecordStatus

PurchaseKind = Literal["dropship", "replenishment"]


class VendorRef(BaseModel):
    id: int | None = Field(examples=[1])
    name: str | None = Field(examples=["Coastal Candles Co"])


class OnportInvoice(BaseModel):
    """One Onport purchase invoice, its sync state and, once published, its Xero bill."""

    id: uuid.UUID = Field(description="The record id (use it to sync, or in /v1/records)")
    connection_id: uuid.UUID
    invoice_id: str = Field(description="Onport's purchase invoice id", examples=["5001"])
    reference: str | None = Field(description="The vendor's invoice number", examples=["INV-5001"])
    purchase_type: str | None = Field(examples=["automated_dropship"])
    kind: PurchaseKind = Field(description="Which automatic-sync switch the invoice follows")
    vendor: VendorRef
    currency: str | None = Field(examples=["AUD"])
    total: Decimal | None = Field(examples=["118.80"])
    payment_status: str | None = Field(examples=["paid"])
    status: RecordStatus
    reason: str | None
    reason_code: str | None = Field(examples=["manual_sync"])
    invoice_date: datetime | None
    created_at: datetime
    updated_at: datetime
    xero: XeroLink | None = Field(description="The bill built for the invoice, if there is one")
    xero_bill_id: str | None = Field(description="Xero's InvoiceID of the published bill")
    xero_url: str | None = Field(
        description="Deep link to the bill in Xero",
        examples=["https://go.xero.com/AccountsPayable/View.aspx?InvoiceID=0f1e…"],
    )


class OnportInvoicePage(BaseModel):
    items: list[OnportInvoice]
    page: int
    page_size: int
    total: int


class OnportVendor(BaseModel):
    id: int = Field(description="Onport's dropship provider id", examples=[1])
    name: str | None = Field(examples=["Coastal Candles Co"])
    type: str | None = Field(examples=["dropship"])
    currency: str | None = Field(examples=["AUD"])
    email: str | None = None
    linked: bool = Field(description="Whether a vendor mapping links it to a Xero contact")
    contact_id: str | None = Field(description="The linked Xero contact")
    contact_name: str | None = Field(
        description="The linked contact's name, when the organisation's contacts have been fetched"
    )


class OnportVendorList(BaseModel):
    items: list[OnportVendor]
    source: Literal["records", "onport"] = Field(
        description="records: vendors seen on stored invoices; onport: read from Onport just now"
    )
