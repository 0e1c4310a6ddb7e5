"""Reading the account's audit entries, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import AuditEntry


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def page(
    session: AsyncSession, account_id: uuid.UUID, subject: str | None, before: int | None, limit: int
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.account_id == account_id)
    if subject:
        # "mapping" shows every mapping's entries ("mapping:product:12" …), "record:<id>" one record's.
        query = query.where(
            or_(AuditEntry.subject == subject, AuditEntry.subject.like(_escaped(subject) + ":%", escape="\\"))
        )
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
