"""Fixes heal: a mapping, setting, tax exception or connection change sends the records that failed or
waited on it back to the mapper by itself; a filtered set is retried in one call."""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.common.messaging.messages import MapRecord
from ledgerbridge.common.models import ConnectionKind, SourceRecord
from ledgerbridge.mapper.record_mapping import map_record
from tests.api.conftest import MakeTenant, Tenant
from tests.api.seed import (
    WORKED_CONTACT,
    add_connection,
    add_record,
    cache_xero_reference,
    records_to_map,
    worked_transaction,
)
from tests.api.test_records import WORKED_MAPPINGS

Sessions = async_sessionmaker[AsyncSession]
NOT_PRODUCTS = [mapping for mapping in WORKED_MAPPINGS if mapping["kind"] != "product"]


async def _sales(committing: Sessions, tenant: Tenant, count: int) -> list[uuid.UUID]:
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(
        committing, tenant.account_id, ConnectionKind.ontraport, xero_connection_id=xero
    )
    await cache_xero_reference(committing, xero)
    return [
        await add_record(
            committing,
            tenant.account_id,
            source,
            str(1001 + n),
            payload={"transaction": worked_transaction(str(1001 + n)), "contact": WORKED_CONTACT},
        )
        for n in range(count)
    ]


async def _map(committing: Sessions, record_ids: list[uuid.UUID]) -> None:
    for record_id in record_ids:
        async with committing() as session, session.begin():
            await map_record(session, MapRecord(record_id=record_id))


async def _states(committing: Sessions, record_ids: list[uuid.UUID]) -> list[tuple[str, str | None]]:
    async with committing() as session:
        rows = await session.scalars(select(SourceRecord).where(SourceRecord.id.in_(record_ids)))
        return sorted((str(row.status), row.reason_code) for row in rows)


async def test_setting_the_default_account_heals_every_record_failed_on_an_unmapped_product(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    records = await _sales(committing, tenant, 18)
    saved = await api.put("/v1/mappings", json=NOT_PRODUCTS, headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    await _map(committing, records)
    assert await _states(committing, records) == [("failed", "product_unmapped")] * 18
    async with committing() as session:
        record = await session.get(SourceRecord, records[0])
        assert record is not None
        assert record.reason_cause == {"kind": "mapping", "name": "product", "key": "1"}

    # A change the failure does not depend on frees nothing.
    unrelated = await api.patch(
        "/v1/settings", json={"ontraport": {"time_zone": "Australia/Sydney"}}, headers=tenant.headers
    )
    assert unrelated.status_code == 200, unrelated.text
    assert await _states(committing, records) == [("failed", "product_unmapped")] * 18
    assert await records_to_map(committing) == []

    fixed = await api.patch(
        "/v1/settings", json={"ontraport": {"default_sales_account": "200"}}, headers=tenant.headers
    )
    assert fixed.status_code == 200, fixed.text
    assert await _states(committing, records) == [("received", None)] * 18
    assert sorted(await records_to_map(committing)) == sorted(map(str, records))
    await _map(committing, records)
    assert await _states(committing, records) == [("mapped", None)] * 18


async def test_mapping_the_product_heals_only_the_records_that_waited_on_it(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    records = await _sales(committing, tenant, 2)
    assert (await api.put("/v1/mappings", json=NOT_PRODUCTS, headers=tenant.headers)).status_code == 200
    await _map(committing, records)
    other = await api.put("/v1/mappings/product/77", json={"account_code": "200"}, headers=tenant.headers)
    assert other.status_code == 200, other.text
    assert await _states(committing, records) == [("failed", "product_unmapped")] * 2
    first = await api.put("/v1/mappings/product/1", json={"account_code": "200"}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    assert await _states(committing, records) == [("received", None)] * 2


async def test_linking_the_source_to_xero_heals_what_waited_for_the_link(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    xero = await add_connection(committing, tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-1")
    source = await add_connection(committing, tenant.account_id, ConnectionKind.ontraport)
    record = await add_record(committing, tenant.account_id, source, "1001")
    await _map(committing, [record])
    assert await _states(committing, [record]) == [("waiting", "xero_not_linked")]
    chosen = await api.put(
        f"/v1/connections/{source}/xero-connection",
        json={"xero_connection_id": str(xero)},
        headers=tenant.headers,
    )
    assert chosen.status_code == 200, chosen.text
    assert await _states(committing, [record]) == [("received", None)]


async def test_bulk_retry_takes_a_filter_and_says_how_many_it_queued(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    tenant = await make_tenant()
    records = await _sales(committing, tenant, 3)
    assert (await api.put("/v1/mappings", json=NOT_PRODUCTS, headers=tenant.headers)).status_code == 200
    await _map(committing, records[:2])
    await api.put("/v1/mappings/product/1", json={"account_code": "200"}, headers=tenant.headers)
    # records[:2] went back to received with the fix; fail them once more on a gateway instead.
    await api.delete("/v1/mappings/gateway/3", headers=tenant.headers)
    await _map(committing, records)
    assert await _states(committing, records) == [("failed", "gateway_unmapped")] * 3

    none = await api.post(
        "/v1/records/retry", json={"reason_code": "product_unmapped"}, headers=tenant.headers
    )
    assert (none.status_code, none.json()) == (202, {"queued": 0, "matched": 0, "remaining": 0})
    some = await api.post(
        "/v1/records/retry",
        json={"reason_code": "gateway_unmapped", "source": "ontraport"},
        headers=tenant.headers,
    )
    assert (some.status_code, some.json()) == (202, {"queued": 3, "matched": 3, "remaining": 0})
    assert await _states(committing, records) == [("received", None)] * 3
    bad = await api.post("/v1/records/retry", json={"status": ["synced"]}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"][:2] == ["body", "status"]


async def test_mapping_a_tax_combination_heals_the_sales_taxed_twice(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: Sessions
) -> None:
    """Issue 15, point 3: taxes charged together on a line map to their own codes only where they apply
    alone; a line taxed by both takes the code mapped for the combination, and mapping it heals."""
    tenant = await make_tenant()
    (record_id,) = await _sales(committing, tenant, 1)
    transaction = worked_transaction("1001", tax="32.50", total="252.50")
    offer = json.loads(transaction["offer_data"])
    offer["taxes"].append({"id": 6, "name": "Levy", "rate": "5", "taxShipping": 0})
    transaction["offer_data"] = json.dumps(offer)
    async with committing() as session, session.begin():
        record = await session.get(SourceRecord, record_id)
        assert record is not None
        record.payload = {"transaction": transaction, "contact": WORKED_CONTACT}
    levy = {"kind": "tax", "source_id": "6", "target": {"tax_type": "EXEMPTOUTPUT"}}
    saved = await api.put("/v1/mappings", json=[*WORKED_MAPPINGS, levy], headers=tenant.headers)
    assert saved.status_code == 200, saved.text
    await _map(committing, [record_id])
    assert await _states(committing, [record_id]) == [("failed", "tax_unmapped")]
    async with committing() as session:
        failed = await session.get(SourceRecord, record_id)
        assert failed is not None and failed.reason_cause == {"kind": "mapping", "name": "tax", "key": "4+6"}

    combined = await api.put("/v1/mappings/tax/4+6", json={"tax_type": "OUTPUT"}, headers=tenant.headers)
    assert combined.status_code == 200, combined.text
    assert await _states(committing, [record_id]) == [("received", None)]
    await _map(committing, [record_id])
    assert await _states(committing, [record_id]) == [("mapped", None)]
