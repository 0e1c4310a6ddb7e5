"""The 10 setup steps, each computed from the account's data and ONTRAPORT's own catalogue as they are now.

A mapping step is done only when every item of ONTRAPORT's catalogue of that kind (and every id a stored
sale names, in case the catalogue lost one) is mapped or covered by a default; a step whose catalogue
could not be read is not done. Tax exceptions and invoice options are done when the user confirms them
(``tax_exceptions_reviewed``, ``invoice_options_confirmed`` in the options), never on an empty PATCH.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners
from ledgerbridge.api.reference.service import OntraportKind
from ledgerbridge.api.settings import service as settings_service
from ledgerbridge.api.setup import catalogue as ontraport_catalogue
from ledgerbridge.api.setup import repository
from ledgerbridge.api.setup.schemas import SetupProgress, SetupStep
from ledgerbridge.common.account_settings import OntraportOptions
from ledgerbridge.common.models import Connection, ConnectionKind, ConnectionStatus, MappingKind

_KIND_WORDS = {
    OntraportKind.gateways: "payment gateways",
    OntraportKind.products: "products",
    OntraportKind.taxes: "taxes",
    OntraportKind.coupons: "coupons",
    OntraportKind.shipping_methods: "shipping methods",
}


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda value: (not value.isdigit(), int(value) if value.isdigit() else 0, value))


def _step(key: str, title: str, missing: list[str], summary: str | None = None) -> SetupStep:
    done = not missing
    return SetupStep(key=key, title=title, done=done, missing=missing, summary=summary or _summary(missing))


def _summary(missing: list[str]) -> str:
    return "Done" if not missing else "; ".join(missing)


def _active(connections: list[Connection], kind: ConnectionKind) -> list[Connection]:
    return [c for c in connections if c.kind is kind and c.status is ConnectionStatus.active]


def _unmapped_summary(kind: OntraportKind, missing: list[str], total: int, default_hint: str | None) -> str:
    if not missing:
        return f"Every one of the {total} {_KIND_WORDS[kind]} in ONTRAPORT is covered"
    hint = f", or set {default_hint}" if default_hint else ""
    return f"{len(missing)} of {total} {_KIND_WORDS[kind]} in ONTRAPORT have no mapping yet: map them{hint}"


async def progress(
    session: AsyncSession, partners: Partners, account_id: uuid.UUID, *, refresh: bool = False
) -> SetupProgress:
    connections = await repository.connections(session, account_id)
    ontraport = _active(connections, ConnectionKind.ontraport)
    options = (await settings_service.read(session, account_id)).ontraport
    catalogue = (
        await ontraport_catalogue.read(session, partners, ontraport[0], refresh=refresh)
        if ontraport
        else None
    )
    known = await repository.known_ontraport_ids(session, account_id)
    mapped = await repository.mapped_ids(session, account_id)
    steps = [
        *_connection_steps(connections),
        *_catalogue_steps(_Catalogue(catalogue, mapped), known, options),
        *await _review_steps(session, account_id, options),
    ]
    done = sum(step.done for step in steps)
    onport = await _onport_steps(session, partners, account_id, connections, mapped, refresh=refresh)
    return SetupProgress(steps=steps, onport=onport, done=done, complete=done == len(steps))


def _connection_steps(connections: list[Connection]) -> list[SetupStep]:
    xero_consented = [
        c
        for c in connections
        if c.kind is ConnectionKind.xero and c.status in (ConnectionStatus.pending, ConnectionStatus.active)
    ]
    organisations = [c for c in _active(connections, ConnectionKind.xero) if c.xero_tenant_id]
    ontraport = _active(connections, ConnectionKind.ontraport)
    xero_missing: list[str] = []
    if not xero_consented:
        xero_missing.append("connect a Xero organisation")
    elif not organisations:
        xero_missing.append("choose which Xero organisation to use")
    ontraport_missing: list[str] = []
    if not ontraport:
        ontraport_missing.append("connect ONTRAPORT")
    elif not any(c.xero_connection_id for c in ontraport):
        ontraport_missing.append("choose the Xero organisation ONTRAPORT sales go to")
    return [
        _step("connect_xero", STEP_TITLES["connect_xero"], xero_missing),
        _step("connect_ontraport", STEP_TITLES["connect_ontraport"], ontraport_missing),
    ]


@dataclass(frozen=True)
class _Catalogue:
    """ONTRAPORT's own catalogue (None before ONTRAPORT is connected) against what is mapped."""

    catalogue: ontraport_catalogue.Catalogue | None
    mapped: dict[MappingKind, set[str]]

    def unmapped(
        self, kind: OntraportKind, mapping: MappingKind, seen: set[str], default_hint: str | None = None
    ) -> SetupStep:
        key = "shipping" if kind is OntraportKind.shipping_methods else kind.value
        title = STEP_TITLES[key]
        if self.catalogue is None:
            return _step(key, title, ["connect ONTRAPORT first"])
        if kind in self.catalogue.errors:
            reason = (
                f"ONTRAPORT's {_KIND_WORDS[kind]} could not be read ({self.catalogue.errors[kind]}); refresh"
            )
            return _step(key, title, [reason])
        everything = self.catalogue.ids(kind) | seen
        missing = _sorted_ids(everything - self.mapped[mapping])
        return _step(key, title, missing, _unmapped_summary(kind, missing, len(everything), default_hint))

    def covered(self, key: str, summary: str) -> SetupStep:
        if self.catalogue is None:
            return _step(key, STEP_TITLES[key], ["connect ONTRAPORT first"])
        return _step(key, STEP_TITLES[key], [], summary)


def _catalogue_steps(
    steps: _Catalogue, known: repository.KnownIds, options: OntraportOptions
) -> list[SetupStep]:
    gateways = steps.unmapped(OntraportKind.gateways, MappingKind.gateway, known.gateways)
    if gateways.done and not steps.mapped[MappingKind.gateway]:
        # Every invoice takes its currency from a gateway mapping: at least one is needed to sync.
        gateways = _step("gateways", STEP_TITLES["gateways"], ["map at least one gateway"])
    if options.default_sales_account:
        products = steps.covered(
            "products", f"The default sales account {options.default_sales_account} covers them"
        )
    else:
        products = steps.unmapped(
            OntraportKind.products, MappingKind.product, known.products, "a default sales account"
        )
    if options.default_shipping_account:
        shipping = steps.covered(
            "shipping", f"The default shipping account {options.default_shipping_account} covers them"
        )
    else:
        shipping = steps.unmapped(
            OntraportKind.shipping_methods, MappingKind.shipping, known.shipping, "a default shipping account"
        )
    taxes = steps.unmapped(OntraportKind.taxes, MappingKind.tax, known.taxes)
    coupons = _coupons(steps.catalogue, known.coupons, steps.mapped[MappingKind.coupon], options)
    return [gateways, products, taxes, coupons, shipping]


async def _review_steps(
    session: AsyncSession, account_id: uuid.UUID, options: OntraportOptions
) -> list[SetupStep]:
    """The steps only a person can finish: confirming the rules and options, and going live."""
    has_rules = await repository.has_tax_exceptions(session, account_id)
    live = await repository.has_finished_import(session, account_id) or await repository.has_synced_record(
        session, account_id
    )
    return [
        _step(
            "tax_exceptions",
            STEP_TITLES["tax_exceptions"],
            []
            if has_rules or options.tax_exceptions_reviewed
            else ["add a tax exception, or confirm that none is needed"],
        ),
        _step(
            "invoice_options",
            STEP_TITLES["invoice_options"],
            [] if options.invoice_options_confirmed else ["review and confirm the invoice options"],
        ),
        _step(
            "import_and_go_live",
            STEP_TITLES["import_and_go_live"],
            [] if live else ["run a historical import, or let the first sale sync"],
        ),
    ]


async def _onport_steps(
    session: AsyncSession,
    partners: Partners,
    account_id: uuid.UUID,
    connections: list[Connection],
    mapped: dict[MappingKind, set[str]],
    *,
    refresh: bool,
) -> list[SetupStep]:
    onport = _active(connections, ConnectionKind.onport)
    xero_ids = {c.id for c in _active(connections, ConnectionKind.xero) if c.xero_tenant_id}
    first = onport[0] if onport else None
    connect = _step(
        "onport_connect", "Connect Onport", [] if first else ["connect Onport with its API token"]
    )
    organisation = _step(
        "onport_organisation",
        "Choose the Xero organisation Onport bills go to",
        [] if first and first.xero_connection_id in xero_ids else ["choose the Xero organisation for bills"],
    )
    if first is None:
        vendors = _step("onport_vendors", "Link vendors to Xero suppliers", ["connect Onport first"])
    else:
        names, error = await ontraport_catalogue.onport_vendors(session, partners, first, refresh=refresh)
        if error:
            vendors = _step(
                "onport_vendors",
                "Link vendors to Xero suppliers",
                [f"Onport's vendors could not be read ({error}); refresh"],
            )
        else:
            missing = _sorted_ids(set(names) - mapped[MappingKind.vendor])
            summary = (
                f"{len(missing)} of {len(names)} Onport vendors are not linked to a Xero supplier yet"
                if missing
                else f"Every one of the {len(names)} Onport vendors is linked to a Xero supplier"
            )
            vendors = _step("onport_vendors", "Link vendors to Xero suppliers", missing, summary)
    options = (await settings_service.read(session, account_id)).onport
    accounts_missing = []
    if not options.default_purchases_account and not mapped[MappingKind.purchase_type]:
        accounts_missing.append("choose the purchases account (or one per purchase type)")
    if not options.default_tax_code and not options.tax_codes:
        accounts_missing.append("choose the tax code for taxed bill lines")
    accounts = _step("onport_accounts", "Bill accounts and tax codes", accounts_missing)
    return [connect, organisation, vendors, accounts]


STEP_TITLES = {
    "connect_xero": "Connect Xero and choose the organisation",
    "connect_ontraport": "Connect ONTRAPORT",
    "gateways": "Map payment gateways (currency, branding, payment account)",
    "products": "Map products to sales accounts",
    "taxes": "Map ONTRAPORT taxes to Xero tax codes",
    "coupons": "Map coupons",
    "shipping": "Map shipping methods",
    "tax_exceptions": "Tax exceptions",
    "invoice_options": "Invoice options",
    "import_and_go_live": "Import history and go live",
}


def _coupons(
    catalogue: ontraport_catalogue.Catalogue | None,
    seen: set[tuple[str, ...]],
    mapped: set[str],
    options: OntraportOptions,
) -> SetupStep:
    title = STEP_TITLES["coupons"]
    if catalogue is None:
        return _step("coupons", title, ["connect ONTRAPORT first"])
    if options.coupon_mode != "separate_line":
        return _step("coupons", title, [], "Coupons are taken off the product lines: nothing to map")
    if options.default_coupon_account:
        return _step(
            "coupons", title, [], f"The default coupon account {options.default_coupon_account} covers them"
        )
    if OntraportKind.coupons in catalogue.errors:
        reason = f"ONTRAPORT's coupons could not be read ({catalogue.errors[OntraportKind.coupons]}); refresh"
        return _step("coupons", title, [reason])
    every = sorted({*catalogue.coupon_keys, *seen})
    missing = [keys[-1] for keys in every if not set(keys) & mapped]
    # The same coupon can be known by id (catalogue) and by id+code (a sale): name each once.
    unique = list(dict.fromkeys(missing))
    return _step(
        "coupons",
        title,
        unique,
        _unmapped_summary(OntraportKind.coupons, unique, len(every), "a default coupon account"),
    )
