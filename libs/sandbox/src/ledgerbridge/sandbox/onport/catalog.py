"""The fixed catalogue the Onport sandbox generates from: currencies, vendors, items, adjustments,
shipping prices, landed costs, and the cases every seed covers."""

from __future__ import annotations

from decimal import Decimal

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
ITEM_NAMES = [
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
ADJUSTMENTS = [
    (Decimal("15.00"), "Rush fee agreed with vendor"),
    (Decimal("-12.50"), "Damaged item credit"),
    (Decimal("-5.00"), "Late shipment penalty"),
    (Decimal("7.25"), "Packaging surcharge"),
]
SHIPPING = [Decimal("0.00"), Decimal("7.50"), Decimal("12.00"), Decimal("15.95")]

# The first purchases walk these cases so every seed has each of them:
# (vendor index, automated, tax included, tax shipping, invoicing, adjustment index, payment)
COVERAGE: list[tuple[int, bool, bool, bool, str, int | None, str]] = [
    (0, False, False, True, "parts", None, "paid"),
    (3, False, False, False, "parts", 0, "partial"),
    (2, True, True, True, "single", 1, "paid"),
    (4, True, False, False, "single", None, "none"),
    (1, False, False, True, "quantity", 2, "none"),
    (5, False, True, False, "single", 3, "paid"),
    (0, True, False, True, "none", None, "none"),
]

# (name, amount) of the landed costs Onport can add to an invoice (``/landed-costs``, absolute values).
LANDED_COSTS = [("Import duty", Decimal("6.40")), ("Freight insurance", Decimal("2.15"))]
