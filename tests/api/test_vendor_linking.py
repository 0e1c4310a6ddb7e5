"""An Onport invoice waiting for its vendor to be linked goes out once the vendor is linked (SPEC.md §5.2)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.common.models import ConnectionKind, RecordStatus, SourceRecord
from tests.api.conftest import MakeTenant
from tests.api.seed import add_connection, add_record, records_to_map


async def test_linking_a_vendor_releases_its_waiting_invoices_only(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await make_tenant()
    connection = await add_connection(committing, tenant.account_id, ConnectionKind.onport)
    reason = "Vendor 'Acme Supplies' (id 12) is not linked to a Xero contact"
    acme = await add_record(
        committing,
        tenant.account_id,
        connection,
        "501",
        status=RecordStatus.waiting,
        reason=reason,
        payload={"invoice": {"id": 501}, "vendor": {"id": 12, "name": "Acme Supplies"}},
        source="onport",
    )
    other = await add_record(
        committing,
        tenant.account_id,
        connection,
        "502",
        status=RecordStatus.waiting,
        reason="another vendor",
        payload={"invoice": {"id": 502}, "vendor": {"id": 13, "name": "Other"}},
        source="onport",
    )
    async with committing() as session, session.begin():
        for record_id, vendor in ((acme, "12"), (other, "13")):
            cause = {"kind": "mapping", "name": "vendor", "key": vendor}
            await session.execute(
                update(SourceRecord)
                .where(SourceRecord.id == record_id)
                .values(reason_code=ReasonCode.vendor_unlinked, reason_cause=cause)
            )

    contact_id = str(uuid.uuid4())
    response = await api.put(
        "/v1/mappings/vendor/12", json={"contact_id": contact_id}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text

    async with committing() as session:
        released = await session.get(SourceRecord, acme)
        untouched = await session.get(SourceRecord, other)
    assert released is not None
    assert untouched is not None
    assert (released.status, released.reason) == (
        RecordStatus.received,
        "Fixed: the vendor 12 mapping was saved",
    )
    assert untouched.status is RecordStatus.waiting
    assert await records_to_map(committing) == [str(acme)]
