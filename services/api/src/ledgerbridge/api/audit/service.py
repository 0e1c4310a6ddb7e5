"""A page of the audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.audit import repository
from ledgerbridge.api.audit.schemas import AuditEntryOut, AuditPage


async def list_entries(
    session: AsyncSession, account_id: uuid.UUID, subject: str | None, before: int | None, limit: int
) -> AuditPage:
    rows = await repository.page(session, account_id, subject, before, limit + 1)
    items = [AuditEntryOut.model_validate(row) for row in rows[:limit]]
    return AuditPage(items=items, next_before=items[-1].id if len(rows) > limit else None)
