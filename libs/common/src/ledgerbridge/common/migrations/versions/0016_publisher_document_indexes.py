"""Indexes for the publisher: documents not yet sent, per organisation and kind (its claims), and an
organisation's documents by Xero number (contacts already made, look-ups)

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it every claim and batch check scans all documents of every tenant.
    op.create_index(
        "ix_documents_unsent",
        "documents",
        ["xero_connection_id", "kind", "created_at", "id"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_documents_connection_kind_number", "documents", ["xero_connection_id", "kind", "xero_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_documents_connection_kind_number", table_name="documents")
    op.drop_index("ix_documents_unsent", table_name="documents")
