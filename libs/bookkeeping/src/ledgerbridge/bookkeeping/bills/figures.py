"""Onport's figures for one purchase invoice, recomputed the Onport way and checked against what the
invoice says: the bill's lines before accounts and tax codes, and the total the bill must come to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from ledgerbridge.bookkeeping.bills.inputs import BillOptions
from ledgerbridge.bookkeeping.bills.record import PurchaseInvoiceRecord
from ledgerbridge.bookkeeping.decisions import MappingError
from ledgerbridge.bookkeeping.money import apportion, money_text, round_cents
from ledgerbridge.bookkeeping.reasons import ReasonCode


@dataclass(frozen=True)
class BillLine:
    """A bill line with Onport's own tax for it (negative for commission)."""

    description: str
    quantity: Decimal
    unit_amount: Decimal
    rate: Decimal
    """Onport tax rate as a fraction."""
    tax: Decimal
    kind: Literal["item", "shipping", "adjustment", "commission"] = "item"
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
    """Bill lines (uncoded) and the bill total, after checking the invoice adds up.

    Raises :class:`MappingError` with both figures when Onport's parts do not give its subtotal or total.
    """
    included = record.tax_included
    lines = [
        BillLine(item.name, item.quantity, item.price, item.tax_rate, Decimal(0)) for item in record.items
    ]
    lines = [replace(line, tax=onport_tax(line.amount, line.rate, included)) for line in lines]
    subtotal = sum((line.amount for line in lines), Decimal(0))
    if record.subtotal is not None and record.subtotal != subtotal:
        raise MappingError(
            f"Purchase invoice {record.reference} does not add up: its lines come to "
            f"{money_text(subtotal)} but its subtotal is {money_text(record.subtotal)}",
            ReasonCode.source_figures,
        )
    if record.shipping:
        rate = record.combined_tax_rate if record.tax_shipping else Decimal(0)
        shipping = BillLine("Shipping", Decimal(1), record.shipping, rate, Decimal(0), "shipping")
        lines.append(replace(shipping, tax=onport_tax(shipping.amount, rate, included)))
    tax = _spread_tax(record, lines)
    parts = subtotal + record.shipping + record.adjustment + (Decimal(0) if included else tax)
    if record.total is not None and parts != record.total:
        raise MappingError(
            f"Purchase invoice {record.reference} does not add up: subtotal {money_text(subtotal)}, shipping "
            f"{money_text(record.shipping)}, tax {money_text(tax)} and adjustment {money_text(record.adjustment)} "
            f"give {money_text(parts)} but its total is {money_text(record.total)}",
            ReasonCode.source_figures,
        )
    total = parts - _extra_lines(record, options, lines)
    return BillFigures(tuple(lines), total)


def _spread_tax(record: PurchaseInvoiceRecord, lines: list[BillLine]) -> Decimal:
    """The invoice's tax; when Onport rounded it some other way than per line, its figure is kept and
    spread over the taxed lines by largest remainder (``lines`` are updated in place)."""
    natural_tax = sum((line.tax for line in lines), Decimal(0))
    tax = natural_tax if record.tax is None else record.tax
    if tax == natural_tax:
        return tax
    taxed = [index for index, line in enumerate(lines) if line.rate]
    if not taxed:
        raise MappingError(
            f"Purchase invoice {record.reference} carries {money_text(tax)} tax but none of its lines is taxed",
            ReasonCode.source_figures,
        )
    shares = apportion(tax, [lines[index].amount * lines[index].rate for index in taxed])
    for index, share in zip(taxed, shares, strict=True):
        lines[index] = replace(lines[index], tax=share)
    return tax


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
