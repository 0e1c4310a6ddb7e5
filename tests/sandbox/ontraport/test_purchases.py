"""The sandbox's Purchase objects (17), made once per transaction, follow the transaction when it changes."""

from __future__ import annotations

import dataclasses

from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.generator import purchase_records
from ledgerbridge.sandbox.ontraport.state import OntraportState

from .conftest import FakeClock


def test_purchases_are_made_once_and_made_again_for_a_transaction_put_again() -> None:
    account = OntraportState(OntraportSandboxConfig(transactions=30), FakeClock()).demo
    first = account.objects(17)
    assert first == [r for key in sorted(account.specs) for r in purchase_records(account.specs[key])]
    assert account.objects(17) == first

    transaction_id = max(account.specs)
    changed = account.specs[transaction_id]
    line = dataclasses.replace(changed.lines[0], quantity=changed.lines[0].quantity + 1)
    account.put_spec(dataclasses.replace(changed, lines=[line, *changed.lines[1:]]))
    served = [r for r in account.objects(17) if r["invoice_id"] == str(transaction_id)]
    assert served[0]["quantity"] == str(line.quantity)  # the new transaction's, not the one made first
    assert served == purchase_records(account.specs[transaction_id])

    account.put_raw({"id": transaction_id, "status": "0"})  # no spec any more: no purchases either
    assert not [r for r in account.objects(17) if r["invoice_id"] == str(transaction_id)]
