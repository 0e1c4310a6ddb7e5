"""What the reconciliation report answers with."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from ledgerbridge.bookkeeping.reconciliation import Cause, FigureKind, GroupBy


class ReportRow(BaseModel):
    period: date = Field(description="First day of the period (a week starts on Monday)")
    source: Literal["ontraport", "onport"]
    gateway: str = Field(description="ONTRAPORT gateway, or Onport purchase type", examples=["Stripe"])
    currency: str = Field(examples=["AUD"])
    figure: FigureKind
    source_count: int
    source_amount: Decimal
    xero_count: int
    xero_amount: Decimal = Field(description="Our documents as Xero holds them now (voided ones count 0)")
    difference: Decimal = Field(description="xero_amount - source_amount")


class ReportDay(BaseModel):
    day: date
    currency: str
    source_amount: Decimal = Field(description="Charges and vendor invoices the source has that day")
    xero_amount: Decimal


class ReportDifference(BaseModel):
    record_id: uuid.UUID
    external_id: str = Field(examples=["1001"])
    source: Literal["ontraport", "onport"]
    day: date
    currency: str
    figure: FigureKind
    source_amount: Decimal
    xero_amount: Decimal
    cause: Cause
    detail: str = Field(examples=["OP-1001 was voided in Xero by hand"])
    document_number: str | None
    record_url: str = Field(description="The record in the web app", examples=["/records/4c1e…"])
    xero_url: str | None = Field(description="The document in Xero, when there is one to open")


class XeroReads(BaseModel):
    calls: int = Field(description="Xero calls this report spent re-reading documents")
    read: int = Field(description="Documents read from Xero for this report")
    cached: int = Field(
        description="Documents taken from the cache (fresh, and no webhook said they changed)"
    )
    not_read: int = Field(description="Documents the call budget did not reach: run the report again")


class Reconciliation(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    group_by: GroupBy
    rows: list[ReportRow]
    days: list[ReportDay] = Field(description="Per day and currency, for the chart")
    differences: list[ReportDifference]
    xero: XeroReads
