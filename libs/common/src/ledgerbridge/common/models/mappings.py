"""The tenant's mappings from source ids to Xero targets, and tax exception rules."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbridge.common.models.base import Base, Timestamps, UUIDPrimaryKey


class MappingKind(enum.StrEnum):
    product = "product"
    coupon = "coupon"
    tax = "tax"
    shipping = "shipping"
    gateway = "gateway"
    vendor = "vendor"
    purchase_type = "purchase_type"


class Mapping(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "mappings"
    __table_args__ = (UniqueConstraint("account_id", "kind", "source_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MappingKind] = mapped_column(Enum(MappingKind, name="mapping_kind"))
    source_id: Mapped[str] = mapped_column(String(100))
    target: Mapped[dict[str, Any]]


class TaxExceptionRule(UUIDPrimaryKey, Timestamps, Base):
    """Matching transactions become tax inclusive with ``tax_type`` (SPEC.md §4.5)."""

    __tablename__ = "tax_exception_rules"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(default=100)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tax_type: Mapped[str] = mapped_column(String(50))
    enabled: Mapped[bool] = mapped_column(default=True)
