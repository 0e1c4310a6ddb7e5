"""Historical import of ONTRAPORT transactions: a date range or the last N, one page per message.

Each page's records and the import's progress commit together, then a follow-up message carries on from
the stored cursor: a crash loses at most the page in flight, and no job runs for long.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import Connection, Import, ImportStatus
from ledgerbridge.poller.ontraport_records import store_transactions
from ledgerbridge.poller.source import TransactionSource

PAGE = 50


def _window(params: dict[str, object]) -> tuple[int | None, int | None]:
    """Unix-second bounds of a date-range import; ``until`` is inclusive of its whole day."""

    def bound(key: str, end_of_day: bool) -> int | None:
        value = params.get(key)
        if not value:
            return None
        day = date.fromisoformat(str(value)[:10])
        moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time.min, UTC)
        return int(moment.timestamp()) - (1 if end_of_day else 0)

    return bound("since", False), bound("until", True)


async def run_import_page(
    session: AsyncSession, job: Import, connection: Connection, source: TransactionSource
) -> None:
    params = dict(job.params)
    since, until = _window(params)
    if job.status is ImportStatus.queued:
        last_n = params.get("last_n")
        if last_n:
            # The last N are those from the N-th latest id on; fixed now so new sales do not shift it.
            boundary = await source.nth_latest_id(int(str(last_n)))
            job.cursor = str((boundary or 1) - 1)
            job.total = min(int(str(last_n)), await source.count_between(None, None))
        else:
            job.cursor = "0"
            job.total = await source.count_between(since, until)
        job.status = ImportStatus.running

    after = int(job.cursor or 0)
    page = await source.transactions_between(after, since, until, PAGE)
    new_contacts = sorted({int(t["contact_id"]) for t in page if str(t.get("contact_id") or "").isdigit()})
    contacts = await source.contacts(new_contacts) if new_contacts else {}
    await store_transactions(session, connection, page, contacts, source.purchases)
    job.done += len(page)
    job.cursor = str(max([after, *(int(t["id"]) for t in page)]))
    if len(page) < PAGE:
        job.status = ImportStatus.done
        job.total = job.done if job.total is None else max(job.total, job.done)
        job.finished_at = datetime.now(UTC)
        return
    await add_message(session, RunImport(import_id=job.id), job.account_id)
