"""Starting a historical import and reading its progress."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.imports import repository
from ledgerbridge.api.imports.schemas import ImportIn, ImportOut
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.common.messaging.messages import RunImport
from ledgerbridge.common.messaging.outbox import add_message
from ledgerbridge.common.models import ConnectionKind, ConnectionStatus, Import, ImportStatus

SOURCE_KINDS = (ConnectionKind.ontraport, ConnectionKind.onport)


async def start(session: AsyncSession, account_id: uuid.UUID, data: ImportIn) -> ImportOut:
    connection = await repository.connection_for_update(session, account_id, data.connection_id)
    if connection is None:
        raise ProblemError(404, "Not found", f"No connection {data.connection_id}")
    if connection.kind not in SOURCE_KINDS:
        raise ProblemError(
            409, "Not a source connection", "Imports read from ONTRAPORT or Onport connections"
        )
    if connection.status is not ConnectionStatus.active:
        raise ProblemError(409, "Connection not active", f"Connection {connection.id} is {connection.status}")
    running = await repository.unfinished_import(session, connection.id)
    if running is not None:
        raise ProblemError(
            409,
            "Import already under way",
            f"Import {running.id} of this connection is {running.status}; wait for it to finish",
        )
    job = Import(
        account_id=account_id, connection_id=connection.id, params=data.params(), status=ImportStatus.queued
    )
    session.add(job)
    await session.flush()
    await add_message(session, RunImport(import_id=job.id), account_id)
    await session.refresh(job)  # server-side timestamps
    return ImportOut.model_validate(job)


async def get(session: AsyncSession, account_id: uuid.UUID, import_id: uuid.UUID) -> ImportOut:
    job = await repository.get_import(session, account_id, import_id)
    if job is None:
        raise ProblemError(404, "Not found", f"No import {import_id}")
    return ImportOut.model_validate(job)


async def list_imports(session: AsyncSession, account_id: uuid.UUID) -> list[ImportOut]:
    return [ImportOut.model_validate(job) for job in await repository.list_imports(session, account_id)]
