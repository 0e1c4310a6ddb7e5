"""Sync requests and the per-connection sync status."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.common.models import ConnectionKind, ConnectionStatus


class SyncRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connection_id: uuid.UUID | None = Field(
        default=None, description="Poll only this source connection; unset polls every active one"
    )


class SyncRunQueued(BaseModel):
    connection_ids: list[uuid.UUID] = Field(description="The source connections a poll was queued for")


class ConnectionSyncStatus(BaseModel):
    connection_id: uuid.UUID
    kind: ConnectionKind
    name: str
    status: ConnectionStatus
    last_polled_at: datetime | None = Field(description="Source connections: when the last poll finished")
    next_poll_at: datetime | None = Field(
        description="Source connections: when the next scheduled poll is due"
    )
    last_error: str | None
    parked_until: datetime | None = Field(
        description="Xero connections: nothing is sent before this (Xero's daily call limit was reached)"
    )
    backlog: int = Field(
        description="Source connections: records not mapped or not yet published plus their unsent "
        "documents; Xero connections: documents waiting to be sent"
    )
    records: dict[str, int] = Field(description="Source connections: records by status")
    documents: dict[str, int] = Field(
        description="Documents by status (built from, or sent to, this connection)"
    )


class SyncStatus(BaseModel):
    connections: list[ConnectionSyncStatus]
    records: dict[str, int] = Field(description="All the account's records by status")
