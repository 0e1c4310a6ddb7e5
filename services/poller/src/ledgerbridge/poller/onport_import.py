"""Historical import of Onport purchase invoices: a date range of invoices (by when Onport raised them,
UTC days) or the last N, one page per message, with progress (SPEC §4.10, §5; issue 15, point 10).

The invoices it covers are fixed when it starts (their ids are listed once: Onport has no count), so
progress reads done / total. Each page's records and the import's cursor (the last invoice id stored)
commit together and a follow-up message carries on, as for ONTRAPORT: a crash loses at most the page in
flight, and a page stored twice changes nothing (the content hash). Every invoice is stored the way a
poll stores it, so automatic sync, manual sync and the bill rules apply to imported ones alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, Import, ImportStatus
from ledgerbridge.poller.onport_poll import InvoiceDetails
from ledgerbridge.poller.onport_records import existing_records, onport_options, store_invoice
from ledgerbridge.poller.onport_source import PurchaseInvoiceSource

IMPORTED = "Imported from Onport"
# Each invoice costs a few detail calls at Onport's ~2 GET/s: a page stays well inside a job's time.
PAGE = 25


def created_between(params: dict[str, object]) -> dict[str, str]:
    """``where`` filters for a date-range import: ``createdAt`` within the days, ``until`` inclusive."""
    where: dict[str, str] = {}
    if params.get("since"):
        where["createdAt][gte"] = f"{str(params['since'])[:10]}T00:00:00.000Z"
    if params.get("until"):
        where["createdAt][lte"] = f"{str(params['until'])[:10]}T23:59:59.999Z"
    return where


async def _start(job: Import, source: PurchaseInvoiceSource, where: dict[str, str]) -> None:
    ids = await source.invoice_ids(where)
    last_n = job.params.get("last_n")
    if last_n:
        ids = ids[-int(str(last_n)) :]
    # The cursor sits just below the first invoice covered; later pages continue above it.
    job.cursor = str(ids[0] - 1) if ids else "0"
    job.total = len(ids)
    job.status = ImportStatus.running


async def run_onport_import_page(
    session: AsyncSession, job: Import, connection: Connection, source: PurchaseInvoiceSource
) -> None:
    where = created_between(dict(job.params))
    if job.status is ImportStatus.queued:
        await _start(job, source, where)
    after = int(job.cursor or 0)
    page = await source.invoices_after(after, where, PAGE) if job.total else []
    existing = await existing_records(session, connection.account_id, [str(i["id"]) for i in page])
    options = await onport_options(session, connection.account_id)
    for payload in await InvoiceDetails(source).payloads(page):
        record = existing.get(str(payload["invoice"]["id"]))
        await store_invoice(session, connection, payload, options, record, via=IMPORTED)
    job.done += len(page)
    job.cursor = str(max([after, *(int(i["id"]) for i in page)]))
    if len(page) < PAGE:
        job.status = ImportStatus.done
        job.total = max(job.total or 0, job.done)
        job.finished_at = datetime.now(UTC)
        return
    await add_message(session, RunImport(import_id=job.id), job.account_id)
