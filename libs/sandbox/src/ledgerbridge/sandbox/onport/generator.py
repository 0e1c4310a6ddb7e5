"""Deterministic demo data for an Onport account, and the operations that change it.

From a seed: three currencies (AUD, USD, GBP), six vendors (three dropship providers, three
replenishment suppliers, one per currency each), and purchases of every ``purchaseType``, tax included
and excluded, with and without taxed shipping. Purchases are invoiced whole, in parts (one purchase,
several purchase invoices, sometimes splitting one item's quantity), or not yet; some invoices carry
positive or negative adjustments with reasons; some are paid (a payout in
``/purchase-invoice-payments``), some partly. The first purchases cover each of those cases whatever
the seed. Amounts follow :mod:`ledgerbridge.sandbox.onport.amounts`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.onport.amounts import ZERO, InvoiceLine, invoice_amounts, line_tax, money

RESOURCES = (
    "currencies",
    "dropship-providers",
    "purchases",
    "purchase-items",
    "purchase-invoices",
    "purchase-invoice-items",
    "purchase-invoice-payments",
)

CURRENCIES = [
    {"name": "Australian Dollar", "iso": "AUD", "symbol": "$", "exchangeRate": 1.0},
    {"name": "US Dollar", "iso": "USD", "symbol": "$", "exchangeRate": 0.65},
    {"name": "British Pound", "iso": "GBP", "symbol": "£", "exchangeRate": 0.52},
]
TAX_RATES = {"AUD": Decimal("0.1"), "USD": Decimal("0.0825"), "GBP": Decimal("0.2")}

# (name, type, currency, payment terms in days, country)
VENDORS = [
    ("Coastal Candles Co", "dropship", "AUD", 14, "AU"),
    ("Brooklyn Ceramics", "dropship", "USD", 30, "US"),
    ("Highland Wool Ltd", "dropship", "GBP", 30, "GB"),
    ("Pacific Wholesale Supply", "replenishment", "AUD", 45, "AU"),
    ("Atlantic Goods Inc", "replenishment", "USD", 60, "US"),
    ("Thames Trading", "replenishment", "GBP", 30, "GB"),
]
_ITEM_NAMES = [
    "Soy Candle 200g",
    "Stoneware Mug",
    "Merino Scarf",
    "Linen Napkins (4)",
    "Beeswax Wrap",
    "Ceramic Vase",
    "Wool Throw",
    "Gift Box",
    "Reed Diffuser",
    "Tea Towel",
]
_ADJUSTMENTS = [
    (Decimal("15.00"), "Rush fee agreed with vendor"),
    (Decimal("-12.50"), "Damaged item credit"),
    (Decimal("-5.00"), "Late shipment penalty"),
    (Decimal("7.25"), "Packaging surcharge"),
]
_SHIPPING = [Decimal("0.00"), Decimal("7.50"), Decimal("12.00"), Decimal("15.95")]

# The first purchases walk these cases so every seed has each of them:
# (vendor index, automated, tax included, tax shipping, invoicing, adjustment index, payment)
_COVERAGE: list[tuple[int, bool, bool, bool, str, int | None, str]] = [
    (0, False, False, True, "parts", None, "paid"),
    (3, False, False, False, "parts", 0, "partial"),
    (2, True, True, True, "single", 1, "paid"),
    (4, True, False, False, "single", None, "none"),
    (1, False, False, True, "quantity", 2, "none"),
    (5, False, True, False, "single", 3, "paid"),
    (0, True, False, True, "none", None, "none"),
]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _number(value: Decimal) -> float:
    return float(value)


class OnportData:
    """The tables of one account plus the operations the control endpoints offer."""

    def __init__(self, seed: int, start_date: str) -> None:
        self.rng = random.Random(seed)
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self._next_ids = dict.fromkeys(RESOURCES, 1)
        self._next_ids["purchases"] = 1001
        self._next_ids["purchase-invoices"] = 5001
        self._cursor = parse_iso(start_date)
        self._seeding = True
        self._last_stamp = self._cursor

    # -- time and ids -------------------------------------------------------------------------------
    def _stamp(self) -> str:
        """Generated history uses synthetic dates; later changes use the real clock, never going back,
        so ``where[updatedAt][gt]=<last seen>`` always finds them."""
        moment = self._cursor if self._seeding else datetime.now(UTC)
        moment = max(moment, self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = moment
        return iso(moment)

    def _insert(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        record_id = self._next_ids[resource]
        self._next_ids[resource] += 1
        stamp = self._stamp()
        full = {"id": record_id, **record, "createdAt": stamp, "updatedAt": stamp}
        self.tables[resource][record_id] = full
        return full

    def touch(self, record: dict[str, Any]) -> None:
        record["updatedAt"] = self._stamp()

    # -- seeding ------------------------------------------------------------------------------------
    def seed(self, purchases: int) -> None:
        for listed in CURRENCIES:
            self._insert("currencies", {**listed, "useLiveRates": False, "roundUp": False})
        for name, kind, currency, days, country in VENDORS:
            slug = name.lower().replace(" ", "").replace("(", "").replace(")", "")
            self._insert(
                "dropship-providers",
                {
                    "name": name,
                    "email": f"accounts@{slug}.example",
                    "currency": currency,
                    "orderCurrencyCode": currency,
                    "paymentDays": days,
                    "terms": f"Net {days}",
                    "type": kind,
                    "status": "accepted",
                    "country": country,
                    "taxIncluded": currency == "GBP",
                    "taxShipping": currency != "USD",
                    "commissionMethod": "retained",
                    "invoicingStage": "afterShipping",
                    "paymentSchedule": "weekly",
                    "xeroId": None,
                    "externalId": None,
                },
            )
        for index in range(purchases):
            self._cursor += timedelta(hours=19)
            if index < len(_COVERAGE):
                vendor, automated, included, tax_ship, invoicing, adjustment, payment = _COVERAGE[index]
                self.add_purchase(
                    vendor_id=vendor + 1,
                    automated=automated,
                    tax_included=included,
                    tax_shipping=tax_ship,
                    invoicing=invoicing,
                    adjustment=_ADJUSTMENTS[adjustment] if adjustment is not None else None,
                    payment=payment,
                )
            else:
                self.add_random_purchase()
        self._seeding = False

    def add_random_purchase(self) -> int:
        rng = self.rng
        adjustment = rng.choice(_ADJUSTMENTS) if rng.random() < 0.2 else None
        return self.add_purchase(
            vendor_id=rng.randint(1, len(VENDORS)),
            automated=rng.random() < 0.4,
            tax_included=rng.random() < 0.3,
            tax_shipping=rng.random() < 0.6,
            invoicing=rng.choices(["single", "parts", "quantity", "none"], weights=[55, 20, 10, 15])[0],
            adjustment=adjustment,
            payment=rng.choices(["paid", "partial", "none"], weights=[50, 10, 40])[0],
        )

    # -- operations ---------------------------------------------------------------------------------
    def add_purchase(
        self,
        *,
        vendor_id: int,
        automated: bool = False,
        tax_included: bool = False,
        tax_shipping: bool = True,
        invoicing: str = "single",
        adjustment: tuple[Decimal, str] | None = None,
        payment: str = "none",
    ) -> int:
        """A purchase with 1-4 items; ``invoicing`` is ``single``, ``parts`` (items spread over several
        invoices), ``quantity`` (one item's quantity split over two invoices) or ``none``."""
        rng = self.rng
        vendor = self.tables["dropship-providers"][vendor_id]
        currency = vendor["currency"]
        rate = TAX_RATES[currency]
        kind = vendor["type"]
        purchase_type = f"automated_{kind}" if automated else kind
        shipping = rng.choice(_SHIPPING[1:]) if kind == "dropship" or rng.random() < 0.5 else ZERO
        item_count = rng.randint(2, 4) if invoicing in ("parts", "quantity") else rng.randint(1, 4)
        purchase = self._insert(
            "purchases",
            {
                "reference": f"PO-{self._next_ids['purchases']}",
                "purchaseType": purchase_type,
                "isDropship": kind == "dropship",
                "dropshipProviderId": vendor_id,
                "currency": currency,
                "taxIncluded": tax_included,
                "taxShipping": tax_shipping,
                "combinedTaxRate": _number(rate),
                "taxCalculation": "default",
                "shipping": _number(shipping),
                "discounts": 0.0,
                "dateOrdered": iso(self._cursor),
                "approved": True,
                "finalized": True,
                "cancelled": False,
                "locked": False,
                "shipmentRouting": "customer",
                "inventoryStatus": "notReceived" if kind == "replenishment" else "received",
                "orderSplitting": "group",
                "invoiceStatus": "notInvoiced",
                "paymentStatus": "notPaid",
                "returnStatus": "notReturned",
                "cancellationStatus": "none",
                "vendorReceivedStatus": "received",
                "lastPurchaseInvoiceReference": 0,
                "lastDropshipmentReference": 0,
                "lastGoodsReceiptReference": 0,
                "reminderSent": 0,
                "invalidShippingAddress": False,
                "shippingAddressMessage": False,
                "muteError": False,
                "weight": 0.0,
            },
        )
        item_ids = []
        for name in rng.sample(_ITEM_NAMES, k=item_count):
            quantity = rng.randint(2, 6) if invoicing == "quantity" else rng.randint(1, 6)
            price = money(Decimal(rng.randint(150, 9000)) / 100)
            item_rate = rate if rng.random() < 0.85 else ZERO
            subtotal = money(price * quantity)
            item = self._insert(
                "purchase-items",
                {
                    "purchaseId": purchase["id"],
                    "purchaseInvoiceId": None,
                    "name": name,
                    "quantity": quantity,
                    "price": _number(price),
                    "subtotal": _number(subtotal),
                    "taxable": item_rate > 0,
                    "taxRate": _number(item_rate),
                    "tax": _number(line_tax(subtotal, item_rate, tax_included)),
                    "exchangeIso": currency,
                    "exchangeRate": next(c["exchangeRate"] for c in CURRENCIES if c["iso"] == currency),
                    "quantityInvoiced": 0,
                    "quantityCancelled": 0,
                    "quantityReturned": 0,
                    "commissionRetained": 0.0,
                    "commissionTaxRetained": 0.0,
                    "commissionTaxRate": 0.0,
                    "commissionRefund": "none",
                    "preventDuplicates": False,
                    "locked": False,
                    "inventoryProcessed": 0,
                    "bundleQuantity": 0,
                    "isBundle": False,
                },
            )
            item_ids.append(item["id"])
        self._refresh_purchase(purchase["id"])
        invoice_ids: list[int] = []
        if invoicing == "single":
            invoice_ids.append(self.invoice(purchase["id"]))
        elif invoicing == "parts":
            cut = rng.randint(1, len(item_ids) - 1)
            for part in (item_ids[:cut], item_ids[cut:]):
                invoice_ids.append(self.invoice(purchase["id"], [(i, None) for i in part]))
        elif invoicing == "quantity":
            first = self.tables["purchase-items"][item_ids[0]]
            half = first["quantity"] // 2
            invoice_ids.append(self.invoice(purchase["id"], [(item_ids[0], half)]))
            invoice_ids.append(self.invoice(purchase["id"]))
        if adjustment is not None and invoice_ids:
            self.adjust(invoice_ids[-1], adjustment[0], adjustment[1])
        if payment != "none":
            for invoice_id in invoice_ids:
                due = Decimal(str(self.tables["purchase-invoices"][invoice_id]["total"]))
                amount = due if payment == "paid" else money(due / 2)
                if amount > 0:
                    self.pay(invoice_id, amount)
        return int(purchase["id"])

    def _items_of(self, resource: str, key: str, owner_id: int) -> list[dict[str, Any]]:
        return [r for r in self.tables[resource].values() if r[key] == owner_id]

    def invoice(self, purchase_id: int, items: list[tuple[int, int | None]] | None = None) -> int:
        """Invoice ``items`` ((purchase item id, quantity or None for all that is left)) of a purchase;
        with ``items`` None, everything not yet invoiced. Raises ValueError when nothing is left."""
        purchase = self.tables["purchases"][purchase_id]
        purchase_items = {i["id"]: i for i in self._items_of("purchase-items", "purchaseId", purchase_id)}
        wanted = items if items is not None else [(item_id, None) for item_id in purchase_items]
        lines = []
        for item_id, quantity in wanted:
            item = purchase_items.get(item_id)
            if item is None:
                raise ValueError(f"purchase item {item_id} is not on purchase {purchase_id}")
            left = item["quantity"] - item["quantityInvoiced"]
            take = left if quantity is None else min(quantity, left)
            if take > 0:
                lines.append((item, take))
        if not lines:
            raise ValueError(f"purchase {purchase_id} has nothing left to invoice")
        first = not self._items_of("purchase-invoices", "purchaseId", purchase_id)
        purchase["lastPurchaseInvoiceReference"] += 1
        invoice = self._insert(
            "purchase-invoices",
            {
                "purchaseId": purchase_id,
                "reference": f"INV-{self._next_ids['purchase-invoices']}",
                "adjustment": 0.0,
                "adjustmentReason": None,
                "paymentStatus": "notPaid",
                "paid": 0.0,
                "source": "automated" if purchase["purchaseType"].startswith("automated") else "manual",
                "invoicingStage": "afterShipping",
                "commissionMethod": "retained",
                "finalized": True,
                "xeroId": None,
                "quickbooksId": None,
                "externalId": None,
                "accountingError": None,
                "accountingIntegrationExternalId": None,
                "currency": purchase["currency"],
                "shipping": purchase["shipping"] if first else 0.0,
            },
        )
        for item, take in lines:
            self._insert(
                "purchase-invoice-items",
                {"purchaseInvoiceId": invoice["id"], "purchaseItemId": item["id"], "quantity": take},
            )
            item["quantityInvoiced"] += take
            # The item points at its invoice only when one invoice billed all of it.
            item["purchaseInvoiceId"] = invoice["id"] if take == item["quantity"] else None
            self.touch(item)
        self.recompute(invoice["id"])
        self._refresh_purchase(purchase_id)
        return int(invoice["id"])

    def recompute(self, invoice_id: int) -> dict[str, Any]:
        invoice = self.tables["purchase-invoices"][invoice_id]
        purchase = self.tables["purchases"][invoice["purchaseId"]]
        lines = []
        for row in self._items_of("purchase-invoice-items", "purchaseInvoiceId", invoice_id):
            item = self.tables["purchase-items"][row["purchaseItemId"]]
            lines.append(InvoiceLine(row["quantity"], money(item["price"]), Decimal(str(item["taxRate"]))))
        amounts = invoice_amounts(
            lines,
            shipping=money(invoice["shipping"]),
            shipping_rate=Decimal(str(purchase["combinedTaxRate"])),
            tax_shipping=purchase["taxShipping"],
            tax_included=purchase["taxIncluded"],
            adjustment=money(invoice["adjustment"]),
        )
        invoice.update(
            subtotal=_number(amounts.subtotal), tax=_number(amounts.tax), total=_number(amounts.total)
        )
        self._refresh_payment_status(invoice)
        return invoice

    def _refresh_payment_status(self, invoice: dict[str, Any]) -> None:
        payments = self._items_of("purchase-invoice-payments", "purchaseInvoiceId", invoice["id"])
        paid = sum((money(p["amount"]) for p in payments if p["status"] == "active"), ZERO)
        total = money(invoice["total"])
        invoice["paid"] = _number(paid)
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
        shipping = money(purchase["shipping"])
        tax = sum((money(i["tax"]) for i in items), ZERO)
        if purchase["taxShipping"]:
            tax += line_tax(shipping, rate, purchase["taxIncluded"])
        total = subtotal + shipping + (ZERO if purchase["taxIncluded"] else tax)
        invoiced = sum(i["quantityInvoiced"] for i in items)
        quantity = sum(i["quantity"] for i in items)
        invoices = self._items_of("purchase-invoices", "purchaseId", purchase_id)
        statuses = {i["paymentStatus"] for i in invoices}
        purchase.update(
            subtotal=_number(subtotal),
            tax=_number(tax),
            total=_number(total),
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
        invoice["adjustment"] = _number(money(invoice["adjustment"]) + money(amount))
        invoice["adjustmentReason"] = reason
        self.recompute(invoice_id)
        self.touch(invoice)
        self._refresh_purchase(invoice["purchaseId"])
        return invoice

    def pay(self, invoice_id: int, amount: Decimal | None = None) -> dict[str, Any]:
        """A vendor payout against an invoice; by default whatever is still owed."""
        invoice = self.tables["purchase-invoices"][invoice_id]
        owed = money(invoice["total"]) - money(invoice["paid"])
        value = owed if amount is None else money(amount)
        if value <= 0:
            raise ValueError(f"invoice {invoice_id} has nothing to pay (owed {owed}, asked {value})")
        currency = next(c for c in CURRENCIES if c["iso"] == invoice["currency"])
        payment_id = self._next_ids["purchase-invoice-payments"]
        payment = self._insert(
            "purchase-invoice-payments",
            {
                "purchaseInvoiceId": invoice_id,
                "purchaseItemId": None,
                "type": "payment",
                "status": "active",
                "amount": _number(value),
                "exchangeRate": currency["exchangeRate"],
                "paidAt": self._stamp(),
                "reference": f"PAYOUT-{payment_id:05d}",
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
