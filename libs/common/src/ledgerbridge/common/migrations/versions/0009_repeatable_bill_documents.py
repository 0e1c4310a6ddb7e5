"""repeatable payment deletions and bills, credit allocations: a bill's payouts can each be cancelled
or refunded, a bill is updated or followed by an adjustment bill when Onport adjusts it after the sync,
and each supplier credit note is allocated to its bill

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:40:00

(0007 is taken by another branch; the two meet in a merge revision.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPEATABLE_BEFORE = "'credit_note', 'refund_payment', 'bill_payment', 'supplier_credit_note'"
REPEATABLE_AFTER = f"{REPEATABLE_BEFORE}, 'payment_delete', 'bill', 'credit_allocation'"


def _recreate(repeatable: str) -> None:
    op.drop_index("uq_documents_record_kind_published", table_name="documents")
    op.create_index(
        "uq_documents_record_kind_published",
        "documents",
        ["record_id", "kind"],
        unique=True,
        postgresql_where=sa.text(f"status = 'published' AND kind NOT IN ({repeatable})"),
    )


def upgrade() -> None:
    # A supplier credit note is allocated to its bill, so the bill's amount due drops with it. A new
    # enum value must be committed before the index below may name it.
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE document_kind ADD VALUE IF NOT EXISTS 'credit_allocation'")
    # Each Onport payout reversed (cancelled or refunded) deletes its own bill payment in Xero; a bill
    # adjusted after the sync is published again (its update) or gets an adjustment bill of its own.
    _recreate(REPEATABLE_AFTER)


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; allocations are removed with their kind left in the type.
    op.execute("DELETE FROM documents WHERE kind = 'credit_allocation'")
    _recreate(REPEATABLE_BEFORE)
