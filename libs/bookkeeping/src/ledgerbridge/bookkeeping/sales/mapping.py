"""The mapping entry point: one ONTRAPORT transaction (plus context) → a :data:`Decision`.

Pure: no I/O, no clock. The caller supplies everything, including what was already published for the
record (:class:`SyncState`) and when a refund was observed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.bookkeeping.decisions import Decision, Fail, MappingError, NoChange, Skip
from ledgerbridge.bookkeeping.documents import InvoiceStatus, edited_in_xero
from ledgerbridge.bookkeeping.lock_dates import apply_lock_date
from ledgerbridge.bookkeeping.money import money_text
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales.context import SaleContext
from ledgerbridge.bookkeeping.sales.inputs import (
    Contact,
    Mappings,
    MappingSettings,
    SyncState,
    TrialState,
)
from ledgerbridge.bookkeeping.sales.invoices import new_invoice, payment_of, publish
from ledgerbridge.bookkeeping.sales.offer_data import OfferDataError
from ledgerbridge.bookkeeping.sales.purchases import PurchaseError, with_purchases
from ledgerbridge.bookkeeping.sales.reversals import refund_of, refunded_before_sync, void_of
from ledgerbridge.bookkeeping.sales.rules import (
    NEVER_SYNCED,
    STATUS_WORDS,
)
from ledgerbridge.bookkeeping.sales.transaction import (
    Transaction,
    TransactionError,
    TransactionStatus,
    parse_transaction,
)


def _synced(context: SaleContext, refunded_total: Decimal | None, observed_on: date | None) -> Decision:
    """A record whose invoice is already in Xero."""
    transaction, state = context.transaction, context.state
    invoice = state.invoice
    assert invoice is not None
    number = context.invoice_number()
    status = transaction.status
    if state.invoice_voided:
        return NoChange(f"Invoice {number} is void in Xero")
    if status is TransactionStatus.VOID:
        return void_of(context)
    if status in NEVER_SYNCED:
        raise MappingError(
            f"Transaction {transaction.id} is now {STATUS_WORDS[status]} but invoice {number} is already in "
            "Xero; check it by hand",
            ReasonCode.source_figures,
        )
    if status in (TransactionStatus.REFUNDED, TransactionStatus.PARTIALLY_REFUNDED) or (
        # ONTRAPORT's "void and re-charge a smaller amount" leaves a paid record with a lower total.
        status is TransactionStatus.PAID and transaction.total < invoice.amount
    ):
        return refund_of(context, refunded_total, observed_on)
    if status is TransactionStatus.UNPAID:
        return NoChange(f"Invoice {number} is in Xero awaiting payment")
    if transaction.total > invoice.amount:
        raise MappingError(
            f"Transaction {transaction.id} now charges {money_text(transaction.total)} but invoice {number} "
            f"in Xero is for {money_text(invoice.amount)}; check it by hand",
            ReasonCode.source_figures,
        )
    if state.payment is not None and not state.payment_deleted:
        return NoChange(f"Invoice {number} and its payment are already in Xero")
    if invoice.body.get("Status") == InvoiceStatus.DRAFT.value:
        unpaid = _draft_unpaid(state, number, transaction.total)
        if unpaid is not None:
            return unpaid
    if not transaction.total:
        return NoChange(f"Invoice {number} is for 0.00; nothing to pay")
    return publish(
        (payment_of(context, number, transaction.total),),
        f"Payment of {money_text(transaction.total)} on invoice {number}",
    )


def _draft_unpaid(state: SyncState, number: str, charged: Decimal) -> Decision | None:
    """Why a draft we sent takes no payment yet, or None once Xero holds it approved for the sale's total."""
    held = state.invoice_held_status
    if held == "PAID":
        return NoChange(f"Invoice {number} was approved and paid in Xero")
    if held != InvoiceStatus.AUTHORISED.value:
        return NoChange(f"Invoice {number} is a draft in Xero; once it is approved there its payment follows")
    total = state.invoice_held_total
    if edited_in_xero(charged, total):
        # Paying the sale's figure would leave the edited invoice part-paid or overpaid: a person decides.
        raise MappingError(
            f"Invoice {number} was approved in Xero for {money_text(total)} but the sale charged "
            f"{money_text(charged)}; no payment was sent",
            ReasonCode.approved_amount_differs,
        )
    return None


def _decide(
    context: SaleContext, trial: TrialState, refunded_total: Decimal | None, observed_on: date | None
) -> Decision:
    transaction = context.transaction
    status = transaction.status
    word = STATUS_WORDS[status]
    if context.state.invoice is not None:
        return _synced(context, refunded_total, observed_on)
    if status in NEVER_SYNCED:
        return Skip(f"Transaction {transaction.id} is {word}; only paid transactions go to Xero")
    if status is TransactionStatus.VOID:
        return Skip(
            f"Transaction {transaction.id} was {word} before it was synced: the charge never settled, "
            "so nothing was created in Xero"
        )
    if status in (TransactionStatus.REFUNDED, TransactionStatus.PARTIALLY_REFUNDED):
        return refunded_before_sync(context, trial, observed_on)
    if status is TransactionStatus.UNPAID and not context.settings.sync_unpaid:
        return Skip(f"Transaction {transaction.id} is unpaid; the setting to sync unpaid transactions is off")
    return new_invoice(context, trial)


def map_transaction(
    record: Transaction | Mapping[str, Any],
    *,
    contact: Contact | None,
    mappings: Mappings,
    settings: MappingSettings,
    reference: XeroReference | None = None,
    state: SyncState | None = None,
    trial: TrialState | None = None,
    refunded_total: Decimal | None = None,
    observed_on: date | None = None,
    purchases: Sequence[Mapping[str, Any]] | None = None,
) -> Decision:
    """Decide what Xero needs for one ONTRAPORT transaction (SPEC §4).

    ``record`` is the raw ONTRAPORT dict or a parsed :class:`Transaction`. ``state`` is what Xero
    already has for the record. ``refunded_total`` is the total refunded so far, when the caller knows
    it (for status 3; otherwise it is the drop in the transaction's total since it was invoiced).
    ``observed_on`` dates credit notes and refunds (default: the transaction date). ``purchases`` are
    the transaction's raw ONTRAPORT Purchase objects, read for its coupon when ``offer_data`` names
    none (SPEC §4 item 12). Never raises for
    bad data: unreadable records and missing mappings come back as :class:`Fail`.
    """
    try:
        transaction = record if isinstance(record, Transaction) else parse_transaction(record)
        transaction = with_purchases(transaction, purchases)
        context = SaleContext(
            transaction, contact, mappings, settings, reference or XeroReference(), state or SyncState()
        )
        decision = _decide(context, trial or TrialState(), refunded_total, observed_on)
        return apply_lock_date(
            decision, context.reference.lock_date, settings.locked_period, "ontraport.locked_period"
        )
    except (TransactionError, OfferDataError) as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "transaction"))
    except PurchaseError as error:
        return Fail(str(error), ReasonCode.source_unreadable, Cause("source", "purchase"))
    except MappingError as error:
        return error.as_fail()
