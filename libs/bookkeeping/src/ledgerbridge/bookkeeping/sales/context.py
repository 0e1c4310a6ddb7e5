"""One transaction with what the sales mapping reads around it: its gateway's mapping, accounts and
templates, each checked against the Xero organisation."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.bookkeeping.decisions import MappingError
from ledgerbridge.bookkeeping.reasons import Cause, ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales.inputs import (
    Contact,
    GatewayMapping,
    Mappings,
    MappingSettings,
    SyncState,
)
from ledgerbridge.bookkeeping.sales.rules import (
    local_date,
    render,
    template_values,
)
from ledgerbridge.bookkeeping.sales.transaction import (
    Transaction,
)


@dataclass(frozen=True)
class SaleContext:
    transaction: Transaction
    contact: Contact | None
    mappings: Mappings
    settings: MappingSettings
    reference: XeroReference
    state: SyncState

    @property
    def date(self) -> str:
        return local_date(self.transaction.date, self.settings.time_zone)

    def gateway(self) -> GatewayMapping:
        gateway_id = self.transaction.gateway_id
        mapping = self.mappings.gateways.get(gateway_id) if gateway_id is not None else None
        if mapping is None:
            raise MappingError(
                f"Gateway {gateway_id} has no currency mapping",
                ReasonCode.gateway_unmapped,
                Cause("mapping", "gateway", str(gateway_id)),
            )
        if (
            mapping.branding_theme_id
            and self.reference.branding_theme_ids
            and mapping.branding_theme_id not in self.reference.branding_theme_ids
        ):
            raise MappingError(
                f"Gateway {gateway_id} is mapped to a branding theme Xero does not have",
                ReasonCode.xero_code_unknown,
                Cause("mapping", "gateway", str(gateway_id)),
            )
        return mapping

    def payment_account(self) -> str:
        account = self.gateway().payment_account_code
        if not account:
            raise MappingError(
                f"Gateway {self.transaction.gateway_id} has no payment account mapped",
                ReasonCode.gateway_unmapped,
                Cause("mapping", "gateway", str(self.transaction.gateway_id)),
            )
        if self.reference.payment_account_codes and account not in self.reference.payment_account_codes:
            raise MappingError(
                f"Payment account {account} of gateway {self.transaction.gateway_id} takes no payments in "
                "Xero; choose a bank account or one with payments enabled",
                ReasonCode.gateway_unmapped,
                Cause("mapping", "gateway", str(self.transaction.gateway_id)),
            )
        if self.reference.account_codes and account not in self.reference.account_codes:
            raise MappingError(
                f"Payment account {account} of gateway {self.transaction.gateway_id} is not an active account in Xero",
                ReasonCode.xero_code_unknown,
                Cause("mapping", "gateway", str(self.transaction.gateway_id)),
            )
        return account

    def invoice_number(self) -> str:
        if self.state.invoice is not None and self.state.invoice.number:
            return self.state.invoice.number
        values = template_values(self.transaction, self.contact)
        return render(self.settings.invoice_number_template, values)

    def payment_reference(self) -> str:
        return self.transaction.gateway_transaction_id or f"ONTRAPORT transaction {self.transaction.id}"
