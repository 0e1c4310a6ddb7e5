"""An index on each organisation's unfinished documents, which every publishing pass reads

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
    op.create_index(
        "ix_documents_connection_unfinished",
        "documents",
        ["xero_connection_id", "kind", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade() -> None:
    op.drop_index("ix_documents_connection_unfinished", table_name="documents")
