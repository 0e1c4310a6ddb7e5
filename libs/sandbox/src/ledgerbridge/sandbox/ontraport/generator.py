"""Deterministic demo data for an ONTRAPORT account: contacts and transactions, from a seed.

Every transaction's amounts follow :mod:`ledgerbridge.sandbox.ontraport.amounts` exactly. Across the
generated records ``offer_data`` uses each key spelling the public clients disagree on:

- product taxability as ``"taxable": true|false`` or ``"tax": "1"|"0"``;
- the tax's shipping flag as ``"taxShipping": true|false`` or ``"tax_shipping": "1"|"0"``;
- ``shipping`` as one object or as a list holding one object.

The first generated transactions cover every combination of those and every status (0..7); after that
statuses are mostly paid (1). Transactions 1001 (SPEC worked example) and 1002 (rounding example) are
fixed and present in every account.

Each product line is also a Purchase object (17) with ``invoice_id`` = the transaction's id, carrying
the coupon and the discount that line got. A coupon is in ``offer_data`` too for even transaction ids
and only in the purchases for odd ones (as the public SDKs' offer models have no coupon block), so both
shapes occur in every account (SPEC §4 item 12).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from ledgerbridge.sandbox.ontraport.amounts import (
    Amounts,
    Coupon,
    Line,
    ShippingMethod,
    Tax,
    compute,
    coupon_applies,
    fmt,
    money,
)
from ledgerbridge.sandbox.ontraport.catalog import (
    COUPON_NAMES,
    COUPONS,
    GATEWAYS,
    PRODUCT_LINES,
    SHIPPING,
    TAXES,
)

WORKED_EXAMPLE_ID = 1001
ROUNDING_EXAMPLE_ID = 1002
FIRST_GENERATED_ID = 1003
FIRST_INVOICE_ID = 5001

STATUSES = range(8)
_STATUS_WEIGHTS = [6, 70, 5, 5, 4, 4, 2, 4]

# Realistic variety: ~120 given names and ~170 family names from many countries (about 20,000 pairs),
# drawn with gently falling (Zipf-like) weights as in real customer lists, so common pairs recur: of
# 7,500 contacts about 80 % have a name of their own. ``names="few"`` keeps the old pool of 90 pairs for
# a run full of name clashes.
_FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Chris",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Emily",
    "Olivia",
    "Liam",
    "Noah",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Lucas",
    "Mateo",
    "Amelia",
    "Harper",
    "Ethan",
    "Aiden",
    "Chloe",
    "Grace",
    "Zoe",
    "Jack",
    "Oliver",
    "Charlotte",
    "Henry",
    "Leo",
    "Ella",
    "Freya",
    "Isla",
    "Archie",
    "Alfie",
    "Poppy",
    "Ruby",
    "Wei",
    "Li",
    "Ming",
    "Yan",
    "Hiroshi",
    "Yuki",
    "Haruto",
    "Sakura",
    "Ji-woo",
    "Min-jun",
    "Seo-yeon",
    "Arjun",
    "Priya",
    "Aarav",
    "Ananya",
    "Rohan",
    "Fatima",
    "Mohammed",
    "Omar",
    "Aisha",
    "Yusuf",
    "Layla",
    "Hassan",
    "Zainab",
    "Ahmed",
    "Sofia",
    "Lucia",
    "Diego",
    "Valentina",
    "Santiago",
    "Camila",
    "Joao",
    "Ana",
    "Pedro",
    "Beatriz",
    "Lukas",
    "Hannah",
    "Felix",
    "Lena",
    "Jonas",
    "Mila",
    "Luca",
    "Giulia",
    "Marco",
    "Chiara",
    "Pierre",
    "Camille",
    "Louis",
    "Manon",
    "Hugo",
    "Ines",
    "Kwame",
    "Ama",
    "Chidi",
    "Ngozi",
    "Tendai",
    "Thandiwe",
    "Sipho",
    "Aroha",
    "Tane",
    "Mele",
    "Sione",
    "Nikolai",
    "Olga",
    "Ivan",
    "Katarzyna",
    "Piotr",
]
_LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kelly",
    "Murphy",
    "O'Brien",
    "Walsh",
    "Byrne",
    "Ryan",
    "O'Connor",
    "McCarthy",
    "Doyle",
    "Evans",
    "Hughes",
    "Edwards",
    "Davies",
    "Morgan",
    "Price",
    "Jenkins",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kim",
    "Park",
    "Choi",
    "Jung",
    "Kang",
    "Cho",
    "Patel",
    "Sharma",
    "Singh",
    "Kumar",
    "Gupta",
    "Reddy",
    "Iyer",
    "Khan",
    "Ali",
    "Ahmed",
    "Hussain",
    "Rahman",
    "Hassan",
    "Ibrahim",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Costa",
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Okafor",
    "Okeke",
    "Mensah",
    "Boateng",
    "Nkosi",
    "Dlamini",
    "Mokoena",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Ivanov",
    "Smirnov",
    "Petrov",
    "Novak",
    "Horvat",
    "Jansen",
    "de",
    "Vries",
    "van",
    "Dijk",
    "Bakker",
    "Andersson",
    "Johansson",
    "Nielsen",
    "Hansen",
    "Larsen",
    "Virtanen",
    "Korhonen",
    "Papadopoulos",
    "Yilmaz",
    "Kaya",
    "Demir",
    "Cohen",
    "Levi",
    "Ngata",
    "Te",
    "Whare",
    "Tupou",
    "Fonoti",
    "Example",
]
_FEW_FIRST_NAMES = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Quinn", "Avery"]
_FEW_LAST_NAMES = ["Example", "Nguyen", "Smith", "O'Brien", "García", "Müller", "Okafor", "Tanaka", "Rossi"]


def _zipf(count: int) -> list[float]:
    return [1 / (rank + 40) for rank in range(count)]


NameVariety = Literal["varied", "few"]
_PLACES = [
    ("Sydney", "NSW", "2000", "AU"),
    ("Austin", "TX", "73301", "US"),
    ("London", "", "EC1A 1BB", "GB"),
    ("Melbourne", "VIC", "3000", "AU"),
    ("Portland", "OR", "97201", "US"),
]


@dataclass(frozen=True)
class OfferVariant:
    taxable_key: str = "taxable"  # or "tax"
    tax_shipping_key: str = "taxShipping"  # or "tax_shipping"
    shipping_as_list: bool = False


@dataclass
class TransactionSpec:
    transaction_id: int
    contact_id: int
    date: int
    gateway_id: int
    lines: list[Line]
    coupon: Coupon | None = None
    tax: Tax | None = None
    shipping: ShippingMethod | None = None
    status: int = 1
    variant: OfferVariant = field(default_factory=OfferVariant)
    invoice_id: int = 0
    refunded: Decimal = Decimal("0.00")
    coupon_in_offer: bool = True
    """False: the coupon is only in the transaction's purchases, not in ``offer_data``."""

    def amounts(self) -> Amounts:
        return compute(self.lines, self.coupon, self.tax, self.shipping)


def _flag(value: bool, spelled_as_string: bool) -> bool | str:
    if spelled_as_string:
        return "1" if value else "0"
    return value


def offer_data(spec: TransactionSpec) -> dict[str, Any]:
    amounts = spec.amounts()
    variant = spec.variant
    products = []
    for line in spec.lines:
        product: dict[str, Any] = {
            "id": str(line.product_id),
            "name": line.name,
            "quantity": str(line.quantity),
            "price": fmt(line.price),
            "total": fmt(line.total),
            variant.taxable_key: _flag(line.taxable, variant.taxable_key == "tax"),
            "shipping": line.ships,
            "type": "single",
            "owner": "1",
        }
        products.append(product)
    offer: dict[str, Any] = {"products": products, "taxes": []}
    if spec.tax is not None:
        offer["taxes"].append(
            {
                "id": str(spec.tax.tax_id),
                "name": spec.tax.name,
                "rate": str(spec.tax.rate),
                variant.tax_shipping_key: _flag(
                    spec.tax.tax_shipping, variant.tax_shipping_key == "tax_shipping"
                ),
                "taxTotal": fmt(amounts.tax),
                "form_id": "0",
            }
        )
    if spec.shipping is not None:
        method = {
            "id": str(spec.shipping.shipping_id),
            "name": spec.shipping.name,
            "price": fmt(spec.shipping.price),
        }
        offer["shipping"] = [method] if variant.shipping_as_list else method
    if spec.coupon is not None and spec.coupon_in_offer:
        coupon = spec.coupon
        offer["coupon"] = {
            "id": str(coupon.coupon_id),
            "code_id": str(coupon.code_id),
            "code": coupon.code,
            "type": coupon.kind,
            "value": str(coupon.value),
            "product_selection": "all" if coupon.product_ids is None else "specific",
            "products": [str(p) for p in coupon.product_ids or ()],
            "discount": fmt(amounts.discount),
        }
    offer["subTotal"] = fmt(amounts.subtotal)
    offer["grandTotal"] = fmt(amounts.total)
    offer["hasTaxes"] = spec.tax is not None
    offer["hasShipping"] = spec.shipping is not None
    offer["shipping_charge_recurring_orders"] = False
    return offer


def transaction_record(spec: TransactionSpec, contact: dict[str, str]) -> dict[str, str]:
    """The transaction the way ``GET /Transaction`` shows it: every value a string."""
    amounts = spec.amounts()
    charged = amounts.total - spec.refunded if spec.status == 3 else amounts.total
    return {
        "id": str(spec.transaction_id),
        "hidden": "0",
        "status": str(spec.status),
        "contact_id": str(spec.contact_id),
        "contact_name": f"{contact.get('firstname', '')} {contact.get('lastname', '')}".strip(),
        "order_id": "0",
        "form_id": "0",
        "lp_id": "0",
        "cc_id": str(spec.contact_id + 700),
        "gateway_id": str(spec.gateway_id),
        "date": str(spec.date),
        "template_id": "1",
        "subtotal": fmt(amounts.subtotal),
        "tax": fmt(amounts.tax),
        "tax_city": "0.00",
        "tax_state": "0.00",
        "tax_county": "0.00",
        "shipping": fmt(amounts.shipping),
        "total": fmt(charged),
        "zip": contact.get("zip", ""),
        "city": contact.get("city", ""),
        "state": contact.get("state", ""),
        "county": "",
        "external_order_id": "",
        "oprid": "0",
        "offer_data": json.dumps(offer_data(spec), separators=(",", ":")),
        "last_recharge_date": "0",
        "recharge_attempts": "0",
        "recharge": "0",
    }


_PURCHASE_STATUS = {0: "0", 1: "1", 2: "4", 3: "1", 4: "3", 5: "2", 6: "5", 7: "7"}
"""Transaction status → purchase status (``purchase_status_enum``); a partial refund leaves it paid."""


def line_discounts(spec: TransactionSpec) -> list[Decimal]:
    """The coupon's discount per line: spread over its targeted lines by largest remainder, so the
    lines add up to the transaction's discount to the cent."""
    discount = spec.amounts().discount
    coupon = spec.coupon
    shares = [Decimal("0.00")] * len(spec.lines)
    if coupon is None or not discount:
        return shares
    targeted = [
        n
        for n, line in enumerate(spec.lines)
        if coupon.product_ids is None or line.product_id in coupon.product_ids
    ]
    base = sum((spec.lines[n].total for n in targeted), Decimal("0.00"))
    cents = int(discount * 100)
    exact = [cents * spec.lines[n].total / base for n in targeted]
    floors = [int(value) for value in exact]
    order = sorted(range(len(targeted)), key=lambda k: (floors[k] - exact[k], k))
    for k in order[: cents - sum(floors)]:
        floors[k] += 1
    for n, share in zip(targeted, floors, strict=True):
        shares[n] = money(Decimal(share) / 100)
    return shares


def purchase_records(spec: TransactionSpec) -> list[dict[str, str]]:
    """The transaction's Purchase objects (17), one per line, with only the fields ONTRAPORT documents."""
    coupon = spec.coupon
    records = []
    for position, (line, discount) in enumerate(zip(spec.lines, line_discounts(spec), strict=True), 1):
        used = coupon is not None and discount > 0
        records.append(
            {
                "id": str(spec.transaction_id * 100 + position),
                "contact_id": str(spec.contact_id),
                "affiliate_id": "0",
                "product_id": str(line.product_id),
                "owner": "1",
                "package_id": "0",
                "invoice_id": str(spec.transaction_id),
                "subscription_id": "0",
                "order_id": "0",
                "oprid": "0",
                "description": "",
                "date": str(spec.date),
                "dlm": str(spec.date),
                "price": fmt(line.price),
                "name": line.name,
                "quantity": str(line.quantity),
                "coupon_id": str(coupon.coupon_id) if used and coupon else "0",
                "coupon_code_id": str(coupon.code_id) if used and coupon else "0",
                "discount": fmt(discount),
                "type": "0",
                "status": _PURCHASE_STATUS[spec.status],
                "level1": "0.00",
                "level2": "0.00",
                "total_price": fmt(line.total - discount),
                "affiliate": "",
                "coupon_name": COUPON_NAMES[coupon.coupon_id] if used and coupon else "",
                "coupon_code": coupon.code if used and coupon else "",
            }
        )
    return records


def generate_contacts(
    rng: random.Random, count: int, start_date: int, names: NameVariety = "varied"
) -> list[dict[str, str]]:
    contacts = []
    first_weights, last_weights = _zipf(len(_FIRST_NAMES)), _zipf(len(_LAST_NAMES))
    for index in range(count):
        contact_id = index + 1
        if contact_id == 1:
            first, last = "Alex", "Example"
        elif names == "few":
            first, last = rng.choice(_FEW_FIRST_NAMES), rng.choice(_FEW_LAST_NAMES)
        else:
            first = rng.choices(_FIRST_NAMES, first_weights)[0]
            last = rng.choices(_LAST_NAMES, last_weights)[0]
        city, state, zip_code, country = _PLACES[index % len(_PLACES)]
        email_last = "".join(ch for ch in last.lower() if ch.isascii() and ch.isalpha())
        contacts.append(
            {
                "id": str(contact_id),
                "firstname": first,
                "lastname": last,
                "email": f"{first.lower()}.{email_last}{contact_id}@example.com",
                "address": f"{contact_id} Example Street",
                "city": city,
                "state": state,
                "zip": zip_code,
                "country": country,
                "date": str(start_date - 86400 * (count - index)),
                "dlm": str(start_date - 86400 * (count - index)),
            }
        )
    return contacts


def worked_examples(start_date: int) -> list[TransactionSpec]:
    pro, workbook = PRODUCT_LINES[1], PRODUCT_LINES[2]
    worked = TransactionSpec(
        transaction_id=WORKED_EXAMPLE_ID,
        contact_id=1,
        date=start_date,
        gateway_id=3,
        lines=[pro, replace(workbook, quantity=2)],
        coupon=COUPONS["SPRING20"],
        tax=TAXES[1],
        shipping=SHIPPING[1],
        invoice_id=FIRST_INVOICE_ID,
    )
    rounding = TransactionSpec(
        transaction_id=ROUNDING_EXAMPLE_ID,
        contact_id=1,
        date=start_date + 60,
        gateway_id=3,
        lines=[PRODUCT_LINES[3], PRODUCT_LINES[4], PRODUCT_LINES[5]],
        tax=TAXES[1],
        invoice_id=FIRST_INVOICE_ID + 1,
    )
    return [worked, rounding]


class TransactionFactory:
    """Makes transactions for one account; the sequence depends only on the seed and the calls made."""

    def __init__(self, seed: int, contacts: list[dict[str, str]], start_date: int, spacing: int) -> None:
        self.rng = random.Random(seed)
        self.contacts = contacts
        self.next_id = FIRST_GENERATED_ID
        self.next_invoice_id = FIRST_INVOICE_ID + 2
        self.next_date = start_date + spacing
        self.spacing = spacing
        self.generated = 0

    def _allocate(self) -> tuple[int, int, int]:
        ids = (self.next_id, self.next_invoice_id, self.next_date)
        self.next_id += 1
        self.next_invoice_id += 1
        self.next_date += self.spacing
        return ids

    def random_spec(self) -> TransactionSpec:
        rng = self.rng
        index = self.generated
        self.generated += 1
        transaction_id, invoice_id, date = self._allocate()
        date += rng.randrange(0, self.spacing // 2 + 1)
        # The first eight records walk every key variant and every status, so even a small account
        # exercises all of them; after that the mix is random and mostly paid.
        covering = index < 8
        if covering:
            variant = OfferVariant(
                taxable_key="tax" if index & 1 else "taxable",
                tax_shipping_key="tax_shipping" if index & 2 else "taxShipping",
                shipping_as_list=bool(index & 4),
            )
            status = (1, 0, 2, 3, 4, 5, 6, 7)[index]
        else:
            variant = OfferVariant(
                taxable_key=rng.choice(["taxable", "tax"]),
                tax_shipping_key=rng.choice(["taxShipping", "tax_shipping"]),
                shipping_as_list=rng.random() < 0.5,
            )
            status = rng.choices(list(STATUSES), weights=_STATUS_WEIGHTS)[0]
        chosen = rng.sample(sorted(PRODUCT_LINES), k=rng.randint(1, 4))
        lines = [replace(PRODUCT_LINES[pid], quantity=rng.choice([1, 1, 1, 2, 3, 5])) for pid in chosen]
        tax = TAXES[rng.choice(sorted(TAXES))] if covering or rng.random() < 0.75 else None
        ships = any(line.ships for line in lines)
        shipping = (
            SHIPPING[rng.choice(sorted(SHIPPING))] if covering or (ships and rng.random() < 0.9) else None
        )
        coupon = None
        if rng.random() < 0.35:
            candidate = COUPONS[rng.choice(sorted(COUPONS))]
            if coupon_applies(candidate, lines):
                coupon = candidate
        spec = TransactionSpec(
            transaction_id=transaction_id,
            contact_id=rng.randint(1, len(self.contacts)),
            date=date,
            gateway_id=int(rng.choice(GATEWAYS)["id"]),
            lines=lines,
            coupon=coupon,
            tax=tax,
            shipping=shipping,
            status=status,
            variant=variant,
            invoice_id=invoice_id,
            coupon_in_offer=transaction_id % 2 == 0,
        )
        if status == 3:
            spec.refunded = self.partial_refund_amount(spec)
        return spec

    def partial_refund_amount(self, spec: TransactionSpec) -> Decimal:
        total = spec.amounts().total
        if total <= Decimal("0.01"):
            return Decimal("0.00")
        share = Decimal(self.rng.randint(10, 60)) / 100
        return min(max(money(total * share), Decimal("0.01")), total - Decimal("0.01"))

    def spec_from_request(self, body: dict[str, Any]) -> TransactionSpec:
        """An explicit transaction from a control request; unknown product ids are an error."""
        transaction_id, invoice_id, date = self._allocate()
        lines = []
        for item in body.get("products", []):
            quantity = int(item.get("quantity", 1))
            if "product_id" in item:
                base = PRODUCT_LINES[int(item["product_id"])]
                lines.append(replace(base, quantity=quantity))
            else:
                lines.append(
                    Line(
                        product_id=int(item.get("id", 900 + len(lines))),
                        name=str(item["name"]),
                        quantity=quantity,
                        price=money(str(item["price"])),
                        taxable=bool(item.get("taxable", True)),
                        ships=bool(item.get("shipping", False)),
                    )
                )
        if not lines:
            raise ValueError("a transaction needs at least one product")
        variant_body = body.get("variant", {})
        spec = TransactionSpec(
            transaction_id=int(body.get("id", transaction_id)),
            contact_id=int(body.get("contact_id", 1)),
            date=int(body.get("date", date)),
            gateway_id=int(body.get("gateway_id", 3)),
            lines=lines,
            coupon=COUPONS[body["coupon_code"]] if body.get("coupon_code") else None,
            tax=TAXES[int(body["tax_id"])] if body.get("tax_id") is not None else None,
            shipping=SHIPPING[int(body["shipping_id"])] if body.get("shipping_id") is not None else None,
            status=int(body.get("status", 1)),
            variant=OfferVariant(
                taxable_key=variant_body.get("taxable_key", "taxable"),
                tax_shipping_key=variant_body.get("tax_shipping_key", "taxShipping"),
                shipping_as_list=bool(variant_body.get("shipping_as_list", False)),
            ),
            invoice_id=invoice_id,
            coupon_in_offer=body.get("coupon_in", "offer_data") != "purchases",
        )
        if spec.status == 3:
            amount = body.get("refunded")
            spec.refunded = money(str(amount)) if amount is not None else self.partial_refund_amount(spec)
        spec.amounts()  # fail now, not when the record is read, if the coupon cannot apply
        return spec
