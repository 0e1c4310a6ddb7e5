"""What was last read from a partner about one connection, for the setup screens.

ONTRAPORT products, taxes, coupons, shipping methods and gateways, and the organisations a Xero consent
covers. Free-form JSON keyed by kind, so a new kind needs no migration; Xero's accounting reference data
has its own table (``XeroReferenceCache``) because the mapper and publisher depend on its shape.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base, Timestamps


class ConnectionReferenceCache(Timestamps, Base):
    __tablename__ = "connection_reference_cache"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]
