"""Parser for an ONTRAPORT transaction's ``offer_data`` JSON string.

Public SDKs disagree on some key names, so every known spelling is accepted: ``taxable``/``tax`` for a
product's taxable flag, ``taxShipping``/``tax_shipping`` on taxes, ``taxTotal``/``tax_total``, shipping
as one object or a list, coupon identified by ``id`` and/or ``code``. Numbers may be strings. Anything
unreadable raises :class:`OfferDataError` naming the field and the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.fields import (
    FieldError,
    read_decimal,
    read_flag,
    read_int,
    read_optional_decimal,
    read_optional_int,
    read_text,
)


class OfferDataError(ValueError):
    """offer_data could not be read; the message says which part and which value."""


@dataclass(frozen=True)
class OfferProduct:
    id: int | None
    name: str
    quantity: Decimal
    price: Decimal
    taxable: bool
    shipping: bool
    """Whether the product is shipped (informational; shipping is charged through ``OfferData.shipping``)."""
    total: Decimal | None


@dataclass(frozen=True)
class OfferTax:
    id: int | None
    name: str
    rate: Decimal
    """Percent: ``Decimal("10")`` is 10 %."""
    tax_shipping: bool
    tax_total: Decimal | None


@dataclass(frozen=True)
class OfferShipping:
    id: int | None
    name: str
    price: Decimal


@dataclass(frozen=True)
class OfferCoupon:
    id: int | None
    code: str | None
    discount: Decimal
    """The discount as an amount of money (not a percentage)."""
    product_ids: frozenset[int] | None
    """Products the discount applies to; None means every product of the offer."""
    product_discounts: tuple[tuple[int, Decimal], ...] = ()
    """What each product got off, when the source says (its Purchase objects do); otherwise the
    discount is spread over ``product_ids`` in proportion to their amounts."""

    @property
    def label(self) -> str:
        """How the coupon is named on an invoice line: its code, else its id."""
        return self.code or (str(self.id) if self.id is not None else "")


@dataclass(frozen=True)
class OfferData:
    products: tuple[OfferProduct, ...]
    taxes: tuple[OfferTax, ...]
    shipping: tuple[OfferShipping, ...]
    coupon: OfferCoupon | None


def _first(item: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in item and item[key] is not None:
            return item[key]
    return None


def _entries(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A list of objects from a list, an object keyed by position, or absent/empty."""
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, Mapping):
        values: Sequence[Any] = list(value.values())
        # One bare object (e.g. shipping {"id":…,"price":…}) rather than an object of objects.
        if not all(isinstance(entry, Mapping) for entry in values):
            values = [value]
    elif isinstance(value, list):
        values = value
    else:
        raise OfferDataError(f"offer_data: {what} is neither an object nor a list ({value!r})")
    for position, entry in enumerate(values, start=1):
        if not isinstance(entry, Mapping):
            raise OfferDataError(f"offer_data: {what} {position} is not an object ({entry!r})")
    return list(values)


def _product(item: Mapping[str, Any], position: int) -> OfferProduct:
    where = f"offer_data: product {position}"
    raw_price = _first(item, "price", "unit_price")
    if raw_price is None:
        raise OfferDataError(f"{where} has no price")
    try:
        product_id = read_optional_int(_first(item, "id", "product_id"), f"{where} has no readable id")
        quantity_raw = _first(item, "quantity", "qty")
        quantity = (
            Decimal(1)
            if quantity_raw is None
            else read_decimal(quantity_raw, f"{where} has no readable quantity")
        )
        price = read_decimal(raw_price, f"{where} has no readable price")
        taxable = read_flag(_first(item, "taxable", "tax"), f"{where} has an unreadable taxable flag")
        shipped = read_flag(item.get("shipping"), f"{where} has an unreadable shipping flag")
        total = read_optional_decimal(item.get("total"), f"{where} has no readable total")
    except FieldError as error:
        raise OfferDataError(str(error)) from None
    if quantity <= 0:
        raise OfferDataError(f"{where} has a quantity that is not positive ({quantity_raw!r})")
    name = read_text(_first(item, "name", "product_name")) or (
        f"Product {product_id}" if product_id is not None else f"Product {position}"
    )
    return OfferProduct(product_id, name, quantity, price, taxable, shipped, total)


def _tax(item: Mapping[str, Any], position: int) -> OfferTax:
    where = f"offer_data: tax {position}"
    raw_rate = _first(item, "rate", "tax_rate")
    if raw_rate is None:
        raise OfferDataError(f"{where} has no rate")
    try:
        tax_id = read_optional_int(_first(item, "id", "tax_id"), f"{where} has no readable id")
        rate = read_decimal(raw_rate, f"{where} has no readable rate")
        tax_shipping = read_flag(
            _first(item, "taxShipping", "tax_shipping"), f"{where} has an unreadable taxShipping flag"
        )
        tax_total = read_optional_decimal(
            _first(item, "taxTotal", "tax_total"), f"{where} has no readable taxTotal"
        )
    except FieldError as error:
        raise OfferDataError(str(error)) from None
    if rate < 0:
        raise OfferDataError(f"{where} has a negative rate ({raw_rate!r})")
    name = read_text(item.get("name")) or (f"Tax {tax_id}" if tax_id is not None else f"Tax {position}")
    return OfferTax(tax_id, name, rate, tax_shipping, tax_total)


def _shipping(item: Mapping[str, Any], position: int) -> OfferShipping:
    where = f"offer_data: shipping {position}"
    raw_price = _first(item, "price", "amount")
    if raw_price is None:
        raise OfferDataError(f"{where} has no price")
    try:
        shipping_id = read_optional_int(item.get("id"), f"{where} has no readable id")
        price = read_decimal(raw_price, f"{where} has no readable price")
    except FieldError as error:
        raise OfferDataError(str(error)) from None
    name = read_text(item.get("name")) or "Shipping"
    return OfferShipping(shipping_id, name, price)


def _coupon(value: Any) -> OfferCoupon | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if not isinstance(value, Mapping):
        raise OfferDataError(f"offer_data: coupon is not an object ({value!r})")
    raw_discount = value.get("discount")
    if raw_discount is None:
        raise OfferDataError("offer_data: coupon has no discount")
    try:
        coupon_id = read_optional_int(
            _first(value, "id", "coupon_id"), "offer_data: coupon has no readable id"
        )
        discount = read_decimal(raw_discount, "offer_data: coupon has no readable discount")
        raw_products = value.get("product_ids")
        product_ids = (
            None
            if raw_products in (None, "", [])
            else frozenset(
                read_int(entry, "offer_data: coupon has an unreadable product id")
                for entry in (raw_products if isinstance(raw_products, list) else [raw_products])
            )
        )
    except FieldError as error:
        raise OfferDataError(str(error)) from None
    if discount < 0:
        raise OfferDataError(f"offer_data: coupon has a negative discount ({raw_discount!r})")
    code = read_text(_first(value, "code", "coupon_code"))
    return OfferCoupon(coupon_id, code, discount, product_ids)


def parse_offer_data(text: str | bytes | Mapping[str, Any] | None) -> OfferData:
    """Parse ``offer_data`` (the JSON string, or an already decoded object) into :class:`OfferData`."""
    if text is None or (isinstance(text, str | bytes) and not text.strip()):
        raise OfferDataError("offer_data: is empty")
    if isinstance(text, Mapping):
        document: Any = text
    else:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise OfferDataError(f"offer_data: is not valid JSON ({error})") from None
    if not isinstance(document, Mapping):
        raise OfferDataError(f"offer_data: is not a JSON object ({document!r})")
    products = tuple(
        _product(item, position)
        for position, item in enumerate(_entries(document.get("products"), "product"), start=1)
    )
    taxes = tuple(
        _tax(item, position) for position, item in enumerate(_entries(document.get("taxes"), "tax"), start=1)
    )
    shipping = tuple(
        _shipping(item, position)
        for position, item in enumerate(_entries(document.get("shipping"), "shipping"), start=1)
    )
    return OfferData(products, taxes, shipping, _coupon(document.get("coupon")))
