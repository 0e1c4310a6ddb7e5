"""Mapping rows, always within one account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Mapping, MappingKind


async def list_mappings(
    session: AsyncSession, account_id: uuid.UUID, kind: MappingKind | None
) -> list[Mapping]:
    query = select(Mapping).where(Mapping.account_id == account_id)
    if kind is not None:
        query = query.where(Mapping.kind == kind)
    return list(await session.scalars(query.order_by(Mapping.kind, Mapping.source_id)))


async def upsert(
    session: AsyncSession, account_id: uuid.UUID, rows: Sequence[tuple[MappingKind, str, dict[str, Any]]]
) -> list[Mapping]:
    """Insert or replace the targets of ``rows`` in one statement (keys must be distinct)."""
    statement = insert(Mapping).values(
        [
            {
                "id": uuid.uuid4(),
                "account_id": account_id,
                "kind": kind,
                "source_id": source_id,
                "target": target,
            }
            for kind, source_id, target in rows
        ]
    )
    upsert_statement = statement.on_conflict_do_update(
        index_elements=[Mapping.account_id, Mapping.kind, Mapping.source_id],
        set_={"target": statement.excluded.target, "updated_at": func.now()},
    ).returning(Mapping)
    result = await session.scalars(upsert_statement, execution_options={"populate_existing": True})
    return list(result)


async def delete_mapping(
    session: AsyncSession, account_id: uuid.UUID, kind: MappingKind, source_id: str
) -> bool:
    deleted = await session.scalars(
        delete(Mapping)
        .where(Mapping.account_id == account_id, Mapping.kind == kind, Mapping.source_id == source_id)
        .returning(Mapping.id)
    )
    return deleted.first() is not None


async def get_mapping(
    session: AsyncSession, account_id: uuid.UUID, kind: MappingKind, source_id: str
) -> Mapping | None:
    mapping: Mapping | None = await session.scalar(
        select(Mapping).where(
            Mapping.account_id == account_id, Mapping.kind == kind, Mapping.source_id == source_id
        )
    )
    return mapping
