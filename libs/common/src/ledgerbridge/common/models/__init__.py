"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

# DocumentKind is the bookkeeping core's own: the database stores the core's document kinds.
from ledgerbridge.bookkeeping.documents import DocumentKind
from ledgerbridge.common.models.accounts import Account, AccountSettings, Plan, Role, User
from ledgerbridge.common.models.alerts import Alert, AlertDelivery, AlertEvent, AlertSettings, DeliveryStatus
from ledgerbridge.common.models.audit import AuditEntry
from ledgerbridge.common.models.auth import RefreshToken
from ledgerbridge.common.models.base import Base
from ledgerbridge.common.models.connections import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    PollCursor,
    PollStream,
    XeroContactDirectory,
    XeroContactName,
    XeroReferenceCache,
)
from ledgerbridge.common.models.mappings import Mapping, MappingKind, TaxExceptionRule
from ledgerbridge.common.models.messaging import InboxMessage, OutboxMessage, OutboxStatus
from ledgerbridge.common.models.records import (
    Document,
    DocumentStatus,
    Import,
    ImportStatus,
    RecordEvent,
    RecordStatus,
    SourceRecord,
)
from ledgerbridge.common.models.reference import ConnectionReferenceCache
from ledgerbridge.common.models.xero_documents import XeroDocumentState

__all__ = [
    "Account",
    "AccountSettings",
    "Alert",
    "AlertDelivery",
    "AlertEvent",
    "AlertSettings",
    "AuditEntry",
    "Base",
    "Connection",
    "ConnectionKind",
    "ConnectionReferenceCache",
    "ConnectionStatus",
    "DeliveryStatus",
    "Document",
    "DocumentKind",
    "DocumentStatus",
    "Import",
    "ImportStatus",
    "InboxMessage",
    "Mapping",
    "MappingKind",
    "OutboxMessage",
    "OutboxStatus",
    "Plan",
    "PollCursor",
    "PollStream",
    "RecordEvent",
    "RecordStatus",
    "RefreshToken",
    "Role",
    "SourceRecord",
    "TaxExceptionRule",
    "User",
    "XeroContactDirectory",
    "XeroContactName",
    "XeroDocumentState",
    "XeroReferenceCache",
]
