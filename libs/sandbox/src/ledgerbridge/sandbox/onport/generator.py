"""Deterministic demo data for an Onport account, and the operations that change it.

From a seed: three currencies (AUD, USD, GBP), six vendors (three dropship providers, three
replenishment suppliers, one per currency each), and purchases of every ``purchaseType``, tax included
and excluded, with and without taxed shipping. Purchases are invoiced whole, in parts (one purchase,
several purchase invoices, sometimes splitting one item's quantity), or not yet; some invoices carry
positive or negative adjustments with reasons; some are paid (a payout in
``/purchase-invoice-payments``), some partly. The first purchases cover each of those cases whatever
the seed. Amounts follow :mod:`ledgerbridge.sandbox.onport.amounts`.

Records carry only the fields Onport's OpenAPI declares (a test checks every one against it). What the
real API keeps beside a record rather than on it lives beside it here too: invoiced shipping in
``/purchase-shipping-rates``, landed costs in ``/landed-cost-purchase-invoices``, payouts (with their
``status`` and ``type``) in ``/purchase-invoice-payments``. A purchase's currency and shipping price and a
vendor's kind, which the schema has no field for, are kept in side tables the API never serves.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ledgerbridge.sandbox.onport.amounts import (
    ZERO,
    line_tax,
    money,
)
from ledgerbridge.sandbox.onport.catalog import (
    ADJUSTMENTS,
    COVERAGE,
    CURRENCIES,
    ITEM_NAMES,
    LANDED_COSTS,
    SHIPPING,
    TAX_RATES,
    VENDORS,
)
from ledgerbridge.sandbox.onport.ledger import InvoiceLedger
from ledgerbridge.sandbox.onport.tables import RESOURCES, iso, number

__all__ = ["RESOURCES", "OnportData"]


class OnportData(InvoiceLedger):
    """The tables of one account plus the operations the control endpoints offer."""

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
                    "paypalEmail": f"accounts@{slug}.example",
                    "orderCurrencyCode": currency,
                    "paymentDays": days,
                    "terms": f"Net {days}",
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
            self.vendor_kinds[len(self.vendor_kinds) + 1] = kind
        for name, value in LANDED_COSTS:
            self._insert(
                "landed-costs",
                {
                    "name": name,
                    "type": "purchase",
                    "dropshipProviderFilter": "all",
                    "valueType": "absolute",
                    "value": number(value),
                    "countryScope": "all",
                },
            )
        for index in range(purchases):
            self._cursor += timedelta(hours=19)
            if index < len(COVERAGE):
                vendor, automated, included, tax_ship, invoicing, adjustment, payment = COVERAGE[index]
                purchase_id = self.add_purchase(
                    vendor_id=vendor + 1,
                    automated=automated,
                    tax_included=included,
                    tax_shipping=tax_ship,
                    invoicing=invoicing,
                    adjustment=ADJUSTMENTS[adjustment] if adjustment is not None else None,
                    payment=payment,
                )
                if index in (1, 3):
                    # A landed cost on a replenishment invoice, so every seed has one.
                    last = max(
                        i["id"] for i in self._items_of("purchase-invoices", "purchaseId", purchase_id)
                    )
                    self.add_landed_cost(last, index // 2)
            else:
                self.add_random_purchase()
        self._seeding = False

    def add_random_purchase(self) -> int:
        rng = self.rng
        adjustment = rng.choice(ADJUSTMENTS) if rng.random() < 0.2 else None
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
        currency = vendor["orderCurrencyCode"]
        rate = TAX_RATES[currency]
        kind = self.vendor_kinds[vendor_id]
        purchase_type = f"automated_{kind}" if automated else kind
        shipping = rng.choice(SHIPPING[1:]) if kind == "dropship" or rng.random() < 0.5 else ZERO
        item_count = rng.randint(2, 4) if invoicing in ("parts", "quantity") else rng.randint(1, 4)
        purchase = self._insert(
            "purchases",
            {
                "reference": f"PO-{self._next_ids['purchases']}",
                "purchaseType": purchase_type,
                "isDropship": kind == "dropship",
                "dropshipProviderId": vendor_id,
                "taxIncluded": tax_included,
                "taxShipping": tax_shipping,
                "combinedTaxRate": number(rate),
                "taxCalculation": "default",
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
        self.purchase_currency[purchase["id"]] = currency
        self.purchase_shipping[purchase["id"]] = shipping
        item_ids = []
        for name in rng.sample(ITEM_NAMES, k=item_count):
            quantity = rng.randint(2, 6) if invoicing == "quantity" else rng.randint(1, 6)
            price = money(Decimal(rng.randint(150, 9000)) / 100)
            item_rate = rate if rng.random() < 0.85 else ZERO
            subtotal = money(price * quantity)
            item = self._insert(
                "purchase-items",
                {
                    "purchaseId": purchase["id"],
                    "name": name,
                    "quantity": quantity,
                    "price": number(price),
                    "subtotal": number(subtotal),
                    "taxable": item_rate > 0,
                    "taxRate": number(item_rate),
                    "tax": number(line_tax(subtotal, item_rate, tax_included)),
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
                due = self.amounts[invoice_id].total
                amount = due if payment == "paid" else money(due / 2)
                if amount > 0:
                    self.pay(invoice_id, amount)
        return int(purchase["id"])

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
            },
        )
        shipping = self.purchase_shipping[purchase_id]
        if first and shipping > 0:
            # Shipping is invoiced once per purchase, as an invoice-purpose shipping rate.
            self._insert(
                "purchase-shipping-rates",
                {
                    "purchaseId": purchase_id,
                    "purchaseInvoiceId": invoice["id"],
                    "ratePurpose": "invoice",
                    "invoiceShipping": True,
                    "invoiceShippingType": "addition",
                    "invoiceEligibility": "eligible",
                    "shippingCommission": 0.0,
                    "price": number(shipping),
                    "provider": "Australia Post" if purchase["isDropship"] else "DHL Freight",
                    "serviceLevel": "Standard",
                },
            )
        for item, take in lines:
            self._insert(
                "purchase-invoice-items",
                {"purchaseInvoiceId": invoice["id"], "purchaseItemId": item["id"], "quantity": take},
            )
            item["quantityInvoiced"] += take
            self.touch(item)
        self.recompute(invoice["id"])
        self._refresh_purchase(purchase_id)
        return int(invoice["id"])
