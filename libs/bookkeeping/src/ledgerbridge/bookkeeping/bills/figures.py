"""Onport's figures for one purchase invoice, worked out the Onport way from its lines, shipping rates
and landed costs: the bill's lines before accounts and tax codes, and the total the bill must come to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from ledgerbridge.bookkeeping.bills.inputs import BillOptions
from ledgerbridge.bookkeeping.bills.record import PurchaseInvoiceRecord
from ledgerbridge.bookkeeping.money import round_cents

LineKind = Literal["item", "shipping", "landed_cost", "adjustment", "commission"]


@dataclass(frozen=True)
class BillLine:
    """A bill line with Onport's own tax for it (negative for commission)."""

    description: str
    quantity: Decimal
    unit_amount: Decimal
    rate: Decimal
    """Onport tax rate as a fraction."""
    tax: Decimal
    kind: LineKind = "item"
    account_code: str = ""
    tax_type: str = ""

    @property
    def amount(self) -> Decimal:
        return round_cents(self.quantity * self.unit_amount)

    def body(self, explicit_tax: bool) -> dict[str, Any]:
        line: dict[str, Any] = {
            "Description": self.description,
            "Quantity": self.quantity,
            "UnitAmount": self.unit_amount,
            "AccountCode": self.account_code,
            "TaxType": self.tax_type,
        }
        if explicit_tax:
            line["TaxAmount"] = self.tax
        return line


def onport_tax(amount: Decimal, rate: Decimal, included: bool) -> Decimal:
    if not rate:
        return Decimal(0)
    return round_cents(amount * rate / (1 + rate) if included else amount * rate)


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True)
class BillFigures:
    lines: tuple[BillLine, ...]
    total: Decimal
    """What the bill must come to in Xero: Onport's total, less what the options leave out of the bill."""


def bill_figures(record: PurchaseInvoiceRecord, options: BillOptions) -> BillFigures:
    """Bill lines (uncoded) and the bill total, worked out from the lines the way Onport does.

    Onport serves no total on a purchase invoice, so the total is the sum of its parts: product lines,
    invoiced shipping (taxed at the purchase's combined rate when it taxes shipping), landed costs
    (untaxed), the adjustment and the tax (outside the amounts unless the purchase includes tax).
    """
    included = record.tax_included
    lines = [
        BillLine(item.name, item.quantity, item.price, item.tax_rate, Decimal(0)) for item in record.items
    ]
    for charge in record.charges:
        rate = record.combined_tax_rate if charge.kind == "shipping" and record.tax_shipping else Decimal(0)
        kind: LineKind = "shipping" if charge.kind == "shipping" else "landed_cost"
        lines.append(BillLine(charge.description, Decimal(1), charge.amount, rate, Decimal(0), kind))
    lines = [replace(line, tax=onport_tax(line.amount, line.rate, included)) for line in lines]
    tax = sum((line.tax for line in lines), Decimal(0))
    parts = sum((line.amount for line in lines), Decimal(0)) + record.adjustment
    parts += Decimal(0) if included else tax
    total = parts - _extra_lines(record, options, lines)
    return BillFigures(tuple(lines), total)


def _extra_lines(record: PurchaseInvoiceRecord, options: BillOptions, lines: list[BillLine]) -> Decimal:
    """Adds the adjustment and commission lines the options ask for (to ``lines``); returns what the
    options leave out of the bill's total."""
    included = record.tax_included
    left_out = Decimal(0)
    if record.adjustment and options.sync_adjustments:
        reason = record.adjustment_reason or "no reason given"
        lines.append(
            BillLine(
                f"Adjustment: {reason}", Decimal(1), record.adjustment, Decimal(0), Decimal(0), "adjustment"
            )
        )
    else:
        left_out += record.adjustment
    if options.commission_lines:
        for item in record.items:
            if not item.commission:
                continue
            # Commission is recorded per purchase item; an invoice billing part of it carries its share.
            share = round_cents(item.commission * item.quantity / item.item_quantity)
            share_tax = round_cents(item.commission_tax * item.quantity / item.item_quantity)
            gross = share + share_tax if included else share
            lines.append(
                BillLine(
                    f"Commission retained: {item.name}",
                    Decimal(1),
                    -gross,
                    item.commission_tax_rate,
                    -share_tax,
                    "commission",
                )
            )
            left_out += share + share_tax
    return left_out
