"""The ONTRAPORT records we read, typed for the fields we use.

ONTRAPORT sends every value as a string (``"12.50"``, ``"1"``, ``""`` for nothing), and the public SDKs
disagree on a few names; the models accept numbers or strings, read ``""`` as missing, and keep every
other field (``extra="allow"``). ``raw`` is the record exactly as received, for storing as the source.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from ledgerbridge.bookkeeping.sales.transaction import TransactionStatus
from ledgerbridge.common.clients.partner import PartnerRecord


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Int = Annotated[int | None, BeforeValidator(_blank_to_none)]
Money = Annotated[Decimal | None, BeforeValidator(_blank_to_none)]
Flag = Annotated[bool | None, BeforeValidator(_blank_to_none)]
Text = Annotated[str | None, BeforeValidator(lambda v: None if v is None else str(v))]


class OntraportRecord(PartnerRecord):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: int


class Transaction(OntraportRecord):
    contact_id: Int = None
    contact_name: Text = None
    date: Int = None
    """Unix seconds."""
    status: int
    subtotal: Money = None
    tax: Money = None
    shipping: Money = None
    total: Money = None
    gateway_id: Int = None
    invoice_id: Int = None
    order_id: Int = None
    external_order_id: Text = None
    offer_data: Text = None
    """A JSON *string*; the mapper's parser reads it (its keys vary between SDKs)."""

    @property
    def occurred_at(self) -> datetime | None:
        return None if self.date is None else datetime.fromtimestamp(self.date, UTC)

    @property
    def known_status(self) -> TransactionStatus | None:
        try:
            return TransactionStatus(self.status)
        except ValueError:
            return None


class Purchase(OntraportRecord):
    """A Purchase (object 17): one product line of a transaction (``invoice_id`` = its id), with the
    coupon and the discount that line got (SPEC §4 item 12)."""

    invoice_id: Int = None
    product_id: Int = None
    coupon_id: Int = None
    coupon_code: Text = None
    coupon_name: Text = None
    discount: Money = None


class TransactionOrder(BaseModel):
    """``GET /Transaction/Order``: the order (offer) behind a transaction."""

    model_config = ConfigDict(extra="allow")

    transaction_id: Int = None
    contact_id: Int = None
    gateway_id: Int = None
    status: Int = None
    offer: dict[str, Any] | None = None

    @classmethod
    def from_api(cls, record: Any) -> TransactionOrder:
        if isinstance(record, dict) and isinstance(record.get("offer"), str):
            # Some accounts answer with the offer still JSON-encoded, as on the transaction itself.
            try:
                record = {**record, "offer": json.loads(record["offer"])}
            except json.JSONDecodeError:
                record = {**record, "offer": None}
        return cls.model_validate(record)


class Product(OntraportRecord):
    name: Text = None
    price: Money = None
    taxable: Flag = None
    sku: Text = None


class Tax(OntraportRecord):
    name: Text = None
    rate: Money = None
    """Percent, e.g. ``10`` for 10 %."""
    tax_shipping: Flag = Field(default=None, validation_alias=AliasChoices("taxShipping", "tax_shipping"))


class ShippingMethod(OntraportRecord):
    name: Text = None
    price: Money = None


class Coupon(OntraportRecord):
    name: Text = None
    coupon_code: Text = None
    discount_type: Text = None
    discount_value: Money = None
    product_selection: Text = None
    products: Text = None


class CouponCode(OntraportRecord):
    coupon_id: Int = None
    code: Text = None


class Gateway(OntraportRecord):
    name: Text = None
    type: Text = None
    currency: Text = None
    """Not every account reports one; the tenant's gateway mapping is what decides the currency."""
    status: Int = None


class Contact(OntraportRecord):
    firstname: Text = None
    lastname: Text = None
    email: Text = None
    company: Text = None
    address: Text = None
    address2: Text = None
    city: Text = None
    state: Text = None
    zip: Text = None
    country: Text = None


class Webhook(OntraportRecord):
    url: Text = None
    event: Text = None
    data: Text = None
    owner: Int = None


class TransactionsInfo(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    count: int
    list_fields: list[str] = Field(default_factory=list, validation_alias=AliasChoices("listFields"))


class AccountCheck(BaseModel):
    """What ``check_credentials`` learned: the credentials work, for this account."""

    account_id: str | None
    transactions: int
