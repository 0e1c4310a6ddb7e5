"""Invoice lines of a transaction and their tax treatment (SPEC §4 rules 4, 5 and 6)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledgerbridge.bookkeeping.decisions import MappingError
from ledgerbridge.bookkeeping.money import apportion, money_text, round_cents
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales.inputs import (
    Contact,
    CouponMode,
    Mappings,
    MappingSettings,
    UntaxedMode,
    tax_combination_key,
)
from ledgerbridge.bookkeeping.sales.offer_data import OfferCoupon, OfferShipping, OfferTax
from ledgerbridge.bookkeeping.sales.rules import matching_tax_exception
from ledgerbridge.bookkeeping.sales.transaction import Transaction
from ledgerbridge.bookkeeping.tracking import TrackingRef, merged, unknown

XERO_MAX_DP = 4


class LineAmountTypes(StrEnum):
    EXCLUSIVE = "Exclusive"
    INCLUSIVE = "Inclusive"
    NO_TAX = "NoTax"


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    taxes: tuple[OfferTax, ...] = ()
    """The ONTRAPORT taxes charged on this line."""
    item_code: str | None = None
    discount: Decimal = Decimal(0)
    tax_type: str | None = None
    tax_amount: Decimal | None = None
    tracking: tuple[TrackingRef, ...] = ()

    @property
    def amount(self) -> Decimal:
        """The line amount as Xero computes it."""
        return round_cents(self.quantity * self.unit_amount - self.discount)

    @property
    def rate(self) -> Decimal:
        """ONTRAPORT's combined rate on this line, in percent."""
        return sum((tax.rate for tax in self.taxes), Decimal(0))

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "Description": self.description,
            "Quantity": _plain(self.quantity),
            "UnitAmount": _plain(self.unit_amount),
            "AccountCode": self.account_code,
        }
        if self.item_code:
            item["ItemCode"] = self.item_code
        if self.tax_type:
            item["TaxType"] = self.tax_type
        if self.tax_amount is not None:
            item["TaxAmount"] = self.tax_amount
        if self.discount:
            item["DiscountAmount"] = self.discount
        if self.tracking:
            item["Tracking"] = [ref.body() for ref in self.tracking]
        return item


@dataclass(frozen=True)
class InvoiceLines:
    line_amount_types: LineAmountTypes
    lines: tuple[Line, ...]
    tax_rates: dict[str, Decimal]
    """Rate per TaxType used on the lines (for :func:`~.documents.xero_totals`)."""


def _plain(value: Decimal) -> Decimal:
    """Whole numbers without decimals, money with at least 2 places: 2, 25.00, 1.0525."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent in (-1, -2) else value.normalize()


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _product_lines(
    transaction: Transaction,
    mappings: Mappings,
    settings: MappingSettings,
    gateway_tracking: tuple[TrackingRef, ...],
) -> list[Line]:
    lines = []
    for product in transaction.offer.products:
        mapping = mappings.products.get(product.id) if product.id is not None else None
        account = mapping.account_code if mapping is not None else settings.default_sales_account
        if not account:
            raise MappingError(
                f"Product '{product.name}' (id {product.id}) has no account and no default sales account is set",
                ReasonCode.product_unmapped,
                Cause("mapping", "product", str(product.id)),
            )
        for what, value in (("price", product.price), ("quantity", product.quantity)):
            if _places(value) > XERO_MAX_DP:
                raise MappingError(
                    f"Product '{product.name}' (id {product.id}) has a {what} with more than "
                    f"{XERO_MAX_DP} decimal places ({value}); Xero keeps at most {XERO_MAX_DP}",
                    ReasonCode.source_figures,
                )
        try:
            tracking = merged(mapping.tracking if mapping is not None else (), gateway_tracking)
        except ValueError as error:
            raise MappingError(
                f"Product '{product.name}' (id {product.id}) and gateway {transaction.gateway_id}: {error}",
                ReasonCode.product_unmapped,
                Cause("mapping", "product", str(product.id)),
            ) from None
        lines.append(
            Line(
                description=product.name,
                quantity=product.quantity,
                unit_amount=product.price,
                account_code=account,
                taxes=transaction.offer.taxes if product.taxable else (),
                item_code=mapping.item_code if mapping is not None else None,
                tracking=tracking,
            )
        )
    products_total = sum((line.amount for line in lines), Decimal(0))
    if products_total != transaction.subtotal:
        raise MappingError(
            f"Transaction {transaction.id} does not add up: its products come to "
            f"{money_text(products_total)} but its subtotal is {money_text(transaction.subtotal)}",
            ReasonCode.source_figures,
        )
    return lines


def _coupon_shares(
    transaction: Transaction, coupon: OfferCoupon, lines: list[Line], targets: list[int]
) -> list[Decimal]:
    """The discount on each targeted line: as the source gave it per product, else in proportion."""
    if not coupon.product_discounts:
        return apportion(coupon.discount, [lines[index].amount for index in targets])
    shares = [Decimal(0)] * len(targets)
    for product_id, discount in coupon.product_discounts:
        positions = [
            n for n, index in enumerate(targets) if transaction.offer.products[index].id == product_id
        ]
        amounts = [lines[targets[n]].amount for n in positions]
        if not positions or discount > sum(amounts, Decimal(0)):
            raise MappingError(
                f"Coupon '{coupon.label}' takes {money_text(discount)} off product {product_id}, which "
                f"transaction {transaction.id} "
                + ("does not sell" if not positions else f"sells for {money_text(sum(amounts, Decimal(0)))}"),
                ReasonCode.source_figures,
            )
        for n, share in zip(positions, apportion(discount, amounts), strict=True):
            shares[n] = share
    return shares


def _apply_coupon(
    transaction: Transaction, lines: list[Line], mappings: Mappings, settings: MappingSettings
) -> list[Line]:
    coupon = transaction.offer.coupon
    if coupon is None or not coupon.discount:
        return lines
    label = coupon.label
    targets = [
        index
        for index, product in enumerate(transaction.offer.products)
        if coupon.product_ids is None or product.id in coupon.product_ids
    ]
    base = sum((lines[index].amount for index in targets), Decimal(0))
    if coupon.discount > base:
        raise MappingError(
            f"Coupon '{label}' takes off {money_text(coupon.discount)}, more than the "
            f"{money_text(base)} of products it applies to",
            ReasonCode.source_figures,
        )
    shares = _coupon_shares(transaction, coupon, lines, targets)
    if settings.coupon_mode is CouponMode.DISCOUNT_AMOUNT:
        discounted = list(lines)
        for index, share in zip(targets, shares, strict=True):
            discounted[index] = replace(lines[index], discount=share)
        return discounted
    account = (
        (mappings.coupons.get(str(coupon.id)) if coupon.id is not None else None)
        or (mappings.coupons.get(coupon.code) if coupon.code else None)
        or settings.default_coupon_account
    )
    if not account:
        raise MappingError(
            f"Coupon '{label}' has no account and no default coupon account is set",
            ReasonCode.coupon_unmapped,
            Cause("mapping", "coupon", str(coupon.id) if coupon.id is not None else coupon.code),
        )
    # The discount reduces taxed and untaxed products alike, so it is split the same way to keep the
    # tax base right; and it is tracked as the products it discounts, so each option's sales are net.
    groups: dict[tuple[tuple[OfferTax, ...], tuple[TrackingRef, ...]], Decimal] = {}
    for index, share in zip(targets, shares, strict=True):
        key = (lines[index].taxes, lines[index].tracking)
        groups[key] = groups.get(key, Decimal(0)) + share
    description = f"Coupon {label}".strip()
    coupon_lines = [
        Line(description, Decimal(1), -amount, account, taxes=taxes, tracking=tracking)
        for (taxes, tracking), amount in groups.items()
        if amount
    ]
    return lines + coupon_lines


def _shipping_lines(
    transaction: Transaction,
    mappings: Mappings,
    settings: MappingSettings,
    gateway_tracking: tuple[TrackingRef, ...],
) -> list[Line]:
    offer = transaction.offer
    methods = offer.shipping
    offered = sum((method.price for method in methods), Decimal(0))
    if methods and offered != transaction.shipping:
        raise MappingError(
            f"Transaction {transaction.id} does not add up: its shipping methods come to "
            f"{money_text(offered)} but its shipping is {money_text(transaction.shipping)}",
            ReasonCode.source_figures,
        )
    if not methods and transaction.shipping:
        methods = (OfferShipping(None, "", transaction.shipping),)
    taxes = tuple(tax for tax in offer.taxes if tax.tax_shipping)
    lines = []
    for method in methods:
        if not method.price:
            continue
        account = (mappings.shipping.get(method.id) if method.id is not None else None) or (
            settings.default_shipping_account
        )
        if not account:
            raise MappingError(
                f"Shipping method '{method.name or 'unnamed'}' (id {method.id}) has no account "
                "and no default shipping account is set",
                ReasonCode.shipping_unmapped,
                Cause("mapping", "shipping", None if method.id is None else str(method.id)),
            )
        description = f"Shipping: {method.name}" if method.name else "Shipping"
        lines.append(
            Line(description, Decimal(1), method.price, account, taxes=taxes, tracking=gateway_tracking)
        )
    return lines


def _tax_code(taxes: tuple[OfferTax, ...], mappings: Mappings) -> str:
    codes = []
    for tax in taxes:
        code = mappings.taxes.get(tax.id) if tax.id is not None else None
        if not code:
            raise MappingError(
                f"Tax '{tax.name}' (id {tax.id}) has no Xero tax code mapped",
                ReasonCode.tax_unmapped,
                Cause("mapping", "tax", None if tax.id is None else str(tax.id)),
            )
        codes.append(code)
    distinct = sorted(set(codes))
    if len(distinct) == 1:
        return distinct[0]
    # Xero puts one TaxType on a line, and the line's amount is the base of every tax on it: two codes
    # would count the same sale twice. Taxes charged together are one Xero rate with several
    # components, mapped for the combination.
    key = tax_combination_key(tax.id for tax in taxes if tax.id is not None)
    combined = mappings.tax_combinations.get(key)
    if combined:
        return combined
    raise MappingError(
        f"Taxes {', '.join(tax.name for tax in taxes)} are charged together on the same lines and map to "
        f"different Xero tax codes ({', '.join(distinct)}); a Xero line carries one tax code, so map the "
        f"combination '{key}' to a Xero tax rate that has each of them as a component",
        ReasonCode.tax_unmapped,
        Cause("mapping", "tax", key),
    )


def _spread(tax: Decimal, lines: list[Line]) -> list[Decimal]:
    """ONTRAPORT's tax split over the taxed lines in proportion to the tax each line generates."""
    weights = [line.amount * line.rate for line in lines]
    if not any(weights):
        raise MappingError(
            f"ONTRAPORT charged {money_text(tax)} tax but the taxed lines carry no taxable amount to put it on",
            ReasonCode.source_figures,
        )
    return apportion(tax, weights)


def _exclusive(
    transaction: Transaction,
    lines: list[Line],
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference,
) -> InvoiceLines:
    if not any(line.taxes for line in lines):
        raise MappingError(
            f"ONTRAPORT charged {money_text(transaction.tax)} tax on transaction {transaction.id} "
            "but no line of its offer is taxable",
            ReasonCode.source_figures,
        )
    coded: list[Line] = []
    rates: dict[str, set[Decimal]] = {}
    for line in lines:
        if line.taxes:
            code = _tax_code(line.taxes, mappings)
            rate = reference.tax_rates.get(code, line.rate)
        elif settings.tax_free_code:
            code, rate = settings.tax_free_code, reference.tax_rates.get(settings.tax_free_code, Decimal(0))
        else:
            raise MappingError(
                f"Transaction {transaction.id} has lines ONTRAPORT did not tax but no tax-free code is set",
                ReasonCode.setting_missing,
                Cause("setting", "ontraport.tax_free_code"),
            )
        rates.setdefault(code, set()).add(rate)
        coded.append(replace(line, tax_type=code))
    natural = sum(
        (round_cents(line.amount * next(iter(rates[line.tax_type or ""])) / 100) for line in coded),
        Decimal(0),
    )
    consistent = all(len(values) == 1 for values in rates.values())
    if not consistent or natural != transaction.tax:
        taxed = [index for index, line in enumerate(coded) if line.taxes]
        shares = _spread(transaction.tax, [coded[index] for index in taxed])
        for index, share in zip(taxed, shares, strict=True):
            coded[index] = replace(coded[index], tax_amount=share)
    return InvoiceLines(
        LineAmountTypes.EXCLUSIVE,
        tuple(coded),
        {code: min(values) for code, values in rates.items()},
    )


def _gross_up(line: Line, share: Decimal) -> Line:
    """The line with ``share`` of ONTRAPORT's separately charged tax folded into its price."""
    gross = round_cents(line.quantity * line.unit_amount) + share
    unit = gross / line.quantity
    if _places(unit) <= XERO_MAX_DP and round_cents(line.quantity * unit) == gross:
        return replace(line, unit_amount=unit)
    # The quantity does not divide the new amount: show it in the text and bill the line as one unit.
    return replace(
        line,
        description=f"{_plain(line.quantity)} x {line.description}",
        quantity=Decimal(1),
        unit_amount=gross,
    )


def _inclusive(
    transaction: Transaction, lines: list[Line], tax_type: str, reference: XeroReference
) -> InvoiceLines:
    grossed = list(lines)
    if transaction.tax:
        taxed = [index for index, line in enumerate(lines) if line.taxes]
        shares = _spread(transaction.tax, [lines[index] for index in taxed])
        for index, share in zip(taxed, shares, strict=True):
            grossed[index] = _gross_up(lines[index], share)
    return InvoiceLines(
        LineAmountTypes.INCLUSIVE,
        tuple(replace(line, tax_type=tax_type) for line in grossed),
        {tax_type: reference.tax_rates.get(tax_type, Decimal(0))},
    )


def build_lines(
    transaction: Transaction,
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference,
    gateway_tracking: tuple[TrackingRef, ...] = (),
) -> InvoiceLines:
    """All invoice lines with accounts, tax codes, tracking and (when rounding needs them) explicit
    TaxAmounts. Product lines carry their product's tracking over ``gateway_tracking`` (the sale's
    gateway's); shipping lines the gateway's; coupon lines those of the products they discount.

    Raises :class:`MappingError` when a mapping is missing or the figures do not add up.
    """
    gateway_tracking = merged((), gateway_tracking)  # in the order every line uses
    lines = _product_lines(transaction, mappings, settings, gateway_tracking)
    lines = _apply_coupon(transaction, lines, mappings, settings)
    lines += _shipping_lines(transaction, mappings, settings, gateway_tracking)
    discount = transaction.offer.coupon.discount if transaction.offer.coupon is not None else Decimal(0)
    parts = transaction.subtotal - discount + transaction.shipping + transaction.tax
    if parts != transaction.total:
        raise MappingError(
            f"Transaction {transaction.id} does not add up: parts give {money_text(parts)} "
            f"but ONTRAPORT charged {money_text(transaction.total)}"
            + (
                "; neither its offer_data nor its purchases name a coupon that explains the difference"
                if not discount and parts > transaction.total
                else ""
            ),
            ReasonCode.source_figures,
        )
    rule = matching_tax_exception(mappings.tax_exceptions, transaction, contact)
    if rule is not None:
        result = _inclusive(transaction, lines, rule.tax_type, reference)
    elif transaction.tax:
        result = _exclusive(transaction, lines, mappings, settings, reference)
    elif settings.untaxed_mode is UntaxedMode.TAX_FREE_CODE and settings.tax_free_code:
        code = settings.tax_free_code
        result = InvoiceLines(
            LineAmountTypes.EXCLUSIVE,
            tuple(replace(line, tax_type=code) for line in lines),
            {code: reference.tax_rates.get(code, Decimal(0))},
        )
    else:
        result = InvoiceLines(LineAmountTypes.NO_TAX, tuple(lines), {})
    _check_reference(result, reference)
    return result


def _check_reference(result: InvoiceLines, reference: XeroReference) -> None:
    for line in result.lines:
        if reference.account_codes and line.account_code not in reference.account_codes:
            raise MappingError(
                f"Account {line.account_code} (line '{line.description}') is not an active account in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "account", line.account_code),
            )
        sales = reference.sales_tax_types
        if sales and line.tax_type and line.tax_type in reference.tax_rates and line.tax_type not in sales:
            raise MappingError(
                f"Tax code {line.tax_type} (line '{line.description}') cannot be used on sales in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "tax_rate", line.tax_type),
            )
        gone = unknown(line.tracking, reference.tracking)
        if gone is not None:
            raise MappingError(
                f"Tracking option '{gone.option}' of category '{gone.name}' (line '{line.description}') is "
                "not active in Xero; choose an active one in the product's or gateway's mapping",
                ReasonCode.xero_code_unknown,
                Cause("xero", "tracking", gone.name),
            )
        if reference.tax_rates and line.tax_type and line.tax_type not in reference.tax_rates:
            raise MappingError(
                f"Tax code {line.tax_type} (line '{line.description}') is not an active tax rate in Xero",
                ReasonCode.xero_code_unknown,
                Cause("xero", "tax_rate", line.tax_type),
            )
