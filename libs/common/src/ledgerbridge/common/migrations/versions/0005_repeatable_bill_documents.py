"""repeatable bill payments and supplier credit notes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:58:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SINGLE_BEFORE = "status = 'published' AND kind NOT IN ('credit_note', 'refund_payment')"
SINGLE_AFTER = "status = 'published' AND kind NOT IN ('credit_note', 'refund_payment', 'bill_payment', 'supplier_credit_note')"


def _recreate(where: str) -> None:
    op.drop_index("uq_documents_record_kind_published", table_name="documents")
    op.create_index(
        "uq_documents_record_kind_published",
        "documents",
        ["record_id", "kind"],
        unique=True,
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    # Each vendor payout is a bill payment and each later negative adjustment a supplier credit note.
    _recreate(SINGLE_AFTER)


def downgrade() -> None:
    _recreate(SINGLE_BEFORE)
