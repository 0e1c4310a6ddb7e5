"""The mapping core alone, on one core: ``map_transaction`` over the ONTRAPORT sandbox's generated records."""

from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ledgerbridge.bookkeeping.reference import XeroReference
from ledgerbridge.bookkeeping.sales import Contact, GatewayMapping, Mappings, ProductMapping, map_transaction
from ledgerbridge.common.account_settings import AccountOptions, OntraportOptions
from ledgerbridge.common.records.core_inputs import mapping_settings, ontraport_contact
from ledgerbridge.common.xero_reference import ReferenceData
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.ontraport.state import OntraportState
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig
from ledgerbridge.sandbox.xero.seed import demo_tenant_id
from ledgerbridge.sandbox.xero.state import SandboxState
from tests.e2e.harness import GATEWAYS

SEED = 20260702
RUNS = 5


@dataclass(frozen=True)
class MapperFigures:
    transactions: int
    per_second: float  # median of the runs
    best_per_second: float
    microseconds_each: float
    decisions: Counter[str]
    documents: Counter[str]


def _inputs(count: int) -> tuple[list[tuple[dict[str, Any], Contact | None]], Mappings, XeroReference]:
    """Raw records and contacts from the sandbox generator; mappings and options as the e2e harness sets
    them up; reference data from the Xero sandbox's AU organisation, as the mapper reads it from its cache."""
    account = OntraportState(
        OntraportSandboxConfig(seed=SEED, transactions=count, contacts=max(count // 4, 1)), time.monotonic
    ).demo
    contacts = {int(c["id"]): ontraport_contact(c) for c in account.contacts}
    records = [
        (raw, contacts.get(int(raw["contact_id"])))
        for _, raw in sorted(account.transactions.items())
        if raw.get("contact_id", "").isdigit()
    ]
    organisation = SandboxState(XeroSandboxConfig()).orgs[demo_tenant_id("AU")]
    reference = ReferenceData(
        accounts=list(organisation.accounts.values()),
        tax_rates=list(organisation.tax_rates.values()),
        branding_themes=list(organisation.branding_themes.values()),
        currencies=list(organisation.currencies.values()),
        fetched_at=datetime.now(UTC),
    )
    theme = next(iter(organisation.branding_themes))
    mappings = Mappings(
        products={1: ProductMapping(account_code="200", item_code="PRO-COURSE")},
        taxes={tax: "OUTPUT" for tax in (1, 2, 3)},
        gateways={
            gateway: GatewayMapping(
                currency_code=currency, branding_theme_id=theme, payment_account_code=code
            )
            for gateway, (currency, code) in GATEWAYS.items()
        },
    )
    return (
        records,
        mappings,
        reference.reference,
    )


def run_mapper(count: int) -> MapperFigures:
    records, mappings, reference = _inputs(count)
    settings = mapping_settings(
        AccountOptions(
            ontraport=OntraportOptions(
                default_sales_account="200",
                default_coupon_account="220",
                default_shipping_account="210",
                tax_free_code="EXEMPTOUTPUT",
            )
        )
    )
    observed_on = date.today()
    decisions: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    for raw, contact in records[:200]:  # warm-up; also what the decisions look like
        map_transaction(
            raw,
            contact=contact,
            mappings=mappings,
            settings=settings,
            reference=reference,
            observed_on=observed_on,
        )
    rates = []
    for run in range(RUNS):
        gc.collect()
        started = time.perf_counter()
        for raw, contact in records:
            decision = map_transaction(
                raw,
                contact=contact,
                mappings=mappings,
                settings=settings,
                reference=reference,
                observed_on=observed_on,
            )
            if run == 0:
                decisions[type(decision).__name__] += 1
                for document in getattr(decision, "documents", ()):
                    documents[document.kind.value] += 1
        rates.append(len(records) / (time.perf_counter() - started))
    median = statistics.median(rates)
    return MapperFigures(
        transactions=len(records),
        per_second=median,
        best_per_second=max(rates),
        microseconds_each=1e6 / median,
        decisions=decisions,
        documents=documents,
    )
