"""The 10 setup steps, each computed from the account's data as it is now."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.settings import service as settings_service
from ledgerbridge.api.setup import repository
from ledgerbridge.api.setup.schemas import SetupProgress, SetupStep
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus, MappingKind


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda value: (not value.isdigit(), int(value) if value.isdigit() else 0, value))


def _step(key: str, title: str, missing: list[str]) -> SetupStep:
    return SetupStep(key=key, title=title, done=not missing, missing=missing)


def _active(connections: list[Connection], kind: ConnectionKind) -> list[Connection]:
    return [c for c in connections if c.kind is kind and c.status is ConnectionStatus.active]


async def progress(session: AsyncSession, account_id: uuid.UUID) -> SetupProgress:
    connections = await repository.connections(session, account_id)
    xero_connected = [
        c
        for c in connections
        if c.kind is ConnectionKind.xero and c.status in (ConnectionStatus.pending, ConnectionStatus.active)
    ]
    organisations = [c for c in _active(connections, ConnectionKind.xero) if c.xero_tenant_id]
    ontraport = _active(connections, ConnectionKind.ontraport)
    known = await repository.known_ontraport_ids(session, account_id)
    mapped = await repository.mapped_ids(session, account_id)
    options = (await settings_service.read(session, account_id)).ontraport
    saved = await repository.saved_option_names(session, account_id)

    # Mapping steps need the ONTRAPORT connection first: until then nothing is known to be unmapped.
    source_missing = [] if ontraport else ["connect ONTRAPORT first"]

    def unmapped(kind: MappingKind, ids: set[str]) -> list[str]:
        return source_missing or _sorted_ids(ids - mapped[kind])

    gateways = unmapped(MappingKind.gateway, known.gateways)
    if not gateways and not mapped[MappingKind.gateway]:
        # Every invoice takes its currency from a gateway mapping: at least one is needed to sync.
        gateways = ["map at least one gateway"]
    products = [] if options.default_sales_account else unmapped(MappingKind.product, known.products)
    coupons_needed = options.coupon_mode == "separate_line" and not options.default_coupon_account
    coupons = (
        source_missing
        or [keys[-1] for keys in sorted(known.coupons) if not set(keys) & mapped[MappingKind.coupon]]
        if coupons_needed
        else []
    )
    shipping = [] if options.default_shipping_account else unmapped(MappingKind.shipping, known.shipping)
    # Options are stored per section once the tenant saves them; defaults alone mean "not reviewed".
    reviewed = bool(saved & {"ontraport", "onport"}) or await repository.has_tax_exceptions(
        session, account_id
    )
    live = await repository.has_finished_import(session, account_id) or await repository.has_synced_record(
        session, account_id
    )

    ontraport_missing: list[str] = []
    if not ontraport:
        ontraport_missing.append("connect ONTRAPORT")
    elif not any(c.xero_connection_id for c in ontraport):
        ontraport_missing.append("choose the Xero organisation ONTRAPORT sales go to")

    steps = [
        _step("connect_xero", "Connect Xero", [] if xero_connected else ["connect a Xero organisation"]),
        _step(
            "choose_organisation",
            "Choose the Xero organisation",
            [] if organisations else ["choose which Xero organisation to use"],
        ),
        _step("connect_ontraport", "Connect ONTRAPORT", ontraport_missing),
        _step("gateways", "Map payment gateways (currency, branding, payment account)", gateways),
        _step("products", "Map products to sales accounts", products),
        _step("taxes", "Map ONTRAPORT taxes to Xero tax codes", unmapped(MappingKind.tax, known.taxes)),
        _step("coupons", "Map coupons", coupons),
        _step("shipping", "Map shipping methods", shipping),
        _step(
            "tax_exceptions_and_invoice_options",
            "Tax exceptions and invoice options",
            [] if reviewed else ["review the invoice options (or add a tax exception)"],
        ),
        _step(
            "import_and_go_live",
            "Import history and go live",
            [] if live else ["run a historical import, or let the first sale sync"],
        ),
    ]
    done = sum(step.done for step in steps)
    return SetupProgress(steps=steps, done=done, complete=done == len(steps))
