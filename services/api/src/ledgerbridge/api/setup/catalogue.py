"""ONTRAPORT's own catalogue (products, taxes, coupons, shipping methods, gateways) for the setup steps.

Read through the reference cache the setup screens use (``/v1/ontraport/{id}/{kind}``): the first look
costs one ONTRAPORT call per kind, later ones none until a refresh. A kind that cannot be read is named in
``errors`` and its step is not done: the setup never claims a step it could not check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.connections.partners import Partners, partner_errors
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.reference import cache
from ledgerbridge.api.reference import service as reference
from ledgerbridge.api.reference.service import OntraportKind
from ledgerbridge.common.models import Connection

log = logging.getLogger(__name__)


@dataclass
class Catalogue:
    names: dict[OntraportKind, dict[str, str]] = field(default_factory=dict)
    # A coupon is mapped by its id or its code: each entry holds every key it may be mapped under.
    coupon_keys: list[tuple[str, ...]] = field(default_factory=list)
    errors: dict[OntraportKind, str] = field(default_factory=dict)

    def ids(self, kind: OntraportKind) -> set[str]:
        return set(self.names.get(kind, {}))


def _id(item: dict[str, Any]) -> str | None:
    value = item.get("id")
    return str(value) if value not in (None, "", 0, "0") else None


async def read(
    session: AsyncSession, partners: Partners, connection: Connection, *, refresh: bool = False
) -> Catalogue:
    catalogue = Catalogue()
    for kind in OntraportKind:
        try:
            items, _ = await reference.ontraport_items(session, partners, connection, kind, refresh)
        except ProblemError as exc:
            catalogue.errors[kind] = str(exc)
            continue
        except Exception as exc:  # unreadable credentials, an unexpected answer: say so, never guess
            log.warning("ONTRAPORT %s could not be read for the setup: %s", kind.value, type(exc).__name__)
            catalogue.errors[kind] = "the connection's credentials could not be used; connect ONTRAPORT again"
            continue
        names: dict[str, str] = {}
        for item in items:
            item_id = _id(item)
            if item_id is None:
                continue
            names[item_id] = str(item.get("name") or item.get("coupon_code") or item_id)
            if kind is OntraportKind.coupons:
                code = item.get("coupon_code")
                catalogue.coupon_keys.append((item_id, str(code)) if code else (item_id,))
        catalogue.names[kind] = names
    return catalogue


ONPORT_VENDORS_KEY = "vendors"


async def onport_vendors(
    session: AsyncSession, partners: Partners, connection: Connection, *, refresh: bool = False
) -> tuple[dict[str, str], str | None]:
    """Onport's own vendor list (id → name), cached like ONTRAPORT's catalogue; or the reason it is not."""
    data, fetched_at = await cache.read(session, connection.id)
    cached = data.get(ONPORT_VENDORS_KEY)
    if not refresh and fetched_at is not None and isinstance(cached, dict):
        return {str(k): str(v) for k, v in cached.items()}, None
    try:
        token = str(partners.credentials(connection).get("api_token") or "")
        with partner_errors("Onport"):
            providers = await partners.onport(token).dropship_providers()
    except ProblemError as exc:
        return {}, str(exc)
    except Exception as exc:  # unreadable credentials: say so, never guess
        log.warning("Onport vendors could not be read for the setup: %s", type(exc).__name__)
        return {}, "the connection's credentials could not be used; connect Onport again"
    vendors = {str(p.id): str(p.raw.get("name") or p.id) for p in providers}
    await cache.merge(session, connection.id, {ONPORT_VENDORS_KEY: vendors})
    return vendors, None
