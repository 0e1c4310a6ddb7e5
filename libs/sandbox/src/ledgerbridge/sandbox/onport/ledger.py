"""What an Onport invoice comes to and what was paid on it: the sandbox's own figures, kept beside
the records (Onport serves no totals), and the operations that move money: payouts, refunds,
cancellations, adjustments and landed costs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.onport.amounts import ZERO, InvoiceLine, invoice_amounts, line_tax, money
from ledgerbridge.sandbox.onport.catalog import CURRENCIES
from ledgerbridge.sandbox.onport.tables import Tables, number

# Payout types that send money back from the vendor (the reverse of a payout).
REVERSING_TYPES = frozenset({"refund"})


class InvoiceLedger(Tables):
    def shipping_of(self, invoice_id: int) -> Decimal:
        """Invoiced shipping: the invoice's shipping rates (a deduction counts negative)."""
        total = ZERO
        for rate in self._items_of("purchase-shipping-rates", "purchaseInvoiceId", invoice_id):
            if rate["invoiceShipping"] and rate["invoiceShippingType"] != "commission":
                price = money(rate["price"])
                total += -price if rate["invoiceShippingType"] == "deduct" else price
        return total

    def landed_costs_of(self, invoice_id: int) -> Decimal:
        rows = self._items_of("landed-cost-purchase-invoices", "purchaseInvoiceId", invoice_id)
        return sum((money(row["amount"]) for row in rows), ZERO)

    def recompute(self, invoice_id: int) -> dict[str, Any]:
        invoice = self.tables["purchase-invoices"][invoice_id]
        purchase = self.tables["purchases"][invoice["purchaseId"]]
        lines = []
        for row in self._items_of("purchase-invoice-items", "purchaseInvoiceId", invoice_id):
            item = self.tables["purchase-items"][row["purchaseItemId"]]
            lines.append(InvoiceLine(row["quantity"], money(item["price"]), Decimal(str(item["taxRate"]))))
        amounts = invoice_amounts(
            lines,
            shipping=self.shipping_of(invoice_id),
            shipping_rate=Decimal(str(purchase["combinedTaxRate"])),
            tax_shipping=purchase["taxShipping"],
            tax_included=purchase["taxIncluded"],
            adjustment=money(invoice["adjustment"]),
            landed_costs=self.landed_costs_of(invoice_id),
        )
        self.amounts[invoice_id] = amounts
        self._refresh_payment_status(invoice)
        return invoice

    def paid_of(self, invoice_id: int) -> Decimal:
        """What the vendor has been paid: active payouts less active refunds."""
        paid = ZERO
        for payment in self._items_of("purchase-invoice-payments", "purchaseInvoiceId", invoice_id):
            if payment["status"] == "active":
                amount = money(payment["amount"])
                paid += -amount if payment["type"] in REVERSING_TYPES else amount
        return paid

    def _refresh_payment_status(self, invoice: dict[str, Any]) -> None:
        paid = self.paid_of(invoice["id"])
        total = self.amounts[invoice["id"]].total
        invoice["paid"] = number(paid)
        if paid <= 0:
            invoice["paymentStatus"] = "notPaid"
        elif paid >= total:
            invoice["paymentStatus"] = "paid"
        else:
            invoice["paymentStatus"] = "partiallyPaid"

    def _refresh_purchase(self, purchase_id: int) -> None:
        purchase = self.tables["purchases"][purchase_id]
        items = self._items_of("purchase-items", "purchaseId", purchase_id)
        subtotal = sum((money(i["subtotal"]) for i in items), ZERO)
        rate = Decimal(str(purchase["combinedTaxRate"]))
        shipping = self.purchase_shipping[purchase_id]
        tax = sum((money(i["tax"]) for i in items), ZERO)
        if purchase["taxShipping"]:
            tax += line_tax(shipping, rate, purchase["taxIncluded"])
        total = subtotal + shipping + (ZERO if purchase["taxIncluded"] else tax)
        invoiced = sum(i["quantityInvoiced"] for i in items)
        quantity = sum(i["quantity"] for i in items)
        invoices = self._items_of("purchase-invoices", "purchaseId", purchase_id)
        statuses = {i["paymentStatus"] for i in invoices}
        purchase.update(
            subtotal=number(subtotal),
            tax=number(tax),
            total=number(total),
            quantity=quantity,
            invoiceStatus="notInvoiced"
            if invoiced == 0
            else ("invoiced" if invoiced >= quantity else "partiallyInvoiced"),
            paymentStatus="paid"
            if statuses == {"paid"} and invoiced >= quantity
            else ("notPaid" if statuses <= {"notPaid"} else "partiallyPaid"),
        )
        self.touch(purchase)

    def adjust(self, invoice_id: int, amount: Decimal, reason: str) -> dict[str, Any]:
        invoice = self.tables["purchase-invoices"][invoice_id]
        invoice["adjustment"] = number(money(invoice["adjustment"]) + money(amount))
        invoice["adjustmentReason"] = reason
        self.recompute(invoice_id)
        self.touch(invoice)
        self._refresh_purchase(invoice["purchaseId"])
        return invoice

    def add_landed_cost(self, invoice_id: int, landed_cost_index: int = 0) -> dict[str, Any]:
        """Put one of the catalogue's landed costs on an invoice (its own bill line)."""
        landed_cost = self.tables["landed-costs"][landed_cost_index + 1]
        row = self._insert(
            "landed-cost-purchase-invoices",
            {
                "purchaseInvoiceId": invoice_id,
                "landedCostId": landed_cost["id"],
                "amount": landed_cost["value"],
            },
        )
        invoice = self.tables["purchase-invoices"][invoice_id]
        self.recompute(invoice_id)
        self.touch(invoice)
        return row

    def pay(self, invoice_id: int, amount: Decimal | None = None) -> dict[str, Any]:
        """A vendor payout against an invoice; by default whatever is still owed."""
        invoice = self.tables["purchase-invoices"][invoice_id]
        owed = self.amounts[invoice_id].total - self.paid_of(invoice_id)
        value = owed if amount is None else money(amount)
        if value <= 0:
            raise ValueError(f"invoice {invoice_id} has nothing to pay (owed {owed}, asked {value})")
        return self._payment(invoice, "payment", value)

    def refund(self, invoice_id: int, amount: Decimal) -> dict[str, Any]:
        """The vendor sends back part or all of what it was paid (a ``refund``-type payment)."""
        invoice = self.tables["purchase-invoices"][invoice_id]
        value = money(amount)
        if value <= 0 or value > self.paid_of(invoice_id):
            raise ValueError(
                f"invoice {invoice_id}: cannot refund {value} of {self.paid_of(invoice_id)} paid"
            )
        return self._payment(invoice, "refund", value)

    def cancel_payment(self, payment_id: int) -> dict[str, Any]:
        payment = self.tables["purchase-invoice-payments"].get(payment_id)
        if payment is None or payment["status"] == "cancelled":
            raise ValueError(f"payment {payment_id} does not exist or is already cancelled")
        payment["status"] = "cancelled"
        self.touch(payment)
        invoice = self.tables["purchase-invoices"][payment["purchaseInvoiceId"]]
        self._refresh_payment_status(invoice)
        self.touch(invoice)
        self._refresh_purchase(invoice["purchaseId"])
        return payment

    def _payment(self, invoice: dict[str, Any], kind: str, value: Decimal) -> dict[str, Any]:
        currency = next(c for c in CURRENCIES if c["iso"] == self.purchase_currency[invoice["purchaseId"]])
        payment_id = self._next_ids["purchase-invoice-payments"]
        payment = self._insert(
            "purchase-invoice-payments",
            {
                "purchaseInvoiceId": invoice["id"],
                "purchaseItemId": None,
                "type": kind,
                "status": "active",
                "amount": number(value),
                "exchangeRate": currency["exchangeRate"],
                "paidAt": self._stamp(),
                "reference": f"{'PAYOUT' if kind == 'payment' else 'REFUND'}-{payment_id:05d}",
                "transferId": f"tr_sandbox_{payment_id:06d}",
                "paymentMethodId": None,
                "externalId": None,
                "xeroId": None,
            },
        )
        self._refresh_payment_status(invoice)
        self.touch(invoice)
        self._refresh_purchase(invoice["purchaseId"])
        return payment

    def embedded_invoice(self, invoice_id: int) -> dict[str, Any]:
        """The invoice with its items (each with its purchase item), purchase and vendor embedded, as
        the custom accounting integration pushes it."""
        invoice = self.tables["purchase-invoices"][invoice_id]
        purchase = self.tables["purchases"][invoice["purchaseId"]]
        items = [
            {**row, "purchaseItem": dict(self.tables["purchase-items"][row["purchaseItemId"]])}
            for row in self._items_of("purchase-invoice-items", "purchaseInvoiceId", invoice_id)
        ]
        return {
            **invoice,
            "purchaseInvoiceItems": items,
            "purchase": dict(purchase),
            "dropshipProvider": dict(self.tables["dropship-providers"][purchase["dropshipProviderId"]]),
        }
