"""reconciliation and rollback: our documents as Xero holds them (a cache the report reads and Xero
webhooks mark stale), rollback document kinds, and a document status for what a rollback undid

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPEATABLE_BEFORE = (
    "'credit_note', 'refund_payment', 'bill_payment', 'supplier_credit_note', 'payment_delete', 'bill', "
    "'credit_allocation'"
)
# A record rolled back, synced again and rolled back again has two of each rollback document.
REPEATABLE_AFTER = f"{REPEATABLE_BEFORE}, 'rollback_payment', 'rollback_document'"


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
    # New enum values must be committed before the index below may name them.
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE document_kind ADD VALUE IF NOT EXISTS 'rollback_payment'")
        op.execute("ALTER TYPE document_kind ADD VALUE IF NOT EXISTS 'rollback_document'")
        op.execute("ALTER TYPE document_status ADD VALUE IF NOT EXISTS 'rolled_back'")
    _recreate(REPEATABLE_AFTER)
    op.create_table(
        "xero_document_states",
        sa.Column("xero_connection_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=20), nullable=False),
        sa.Column("xero_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("number", sa.String(length=255), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_xero_document_states_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["connections.id"],
            name=op.f("fk_xero_document_states_xero_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "xero_connection_id", "resource", "xero_id", name=op.f("pk_xero_document_states")
        ),
    )
    op.create_index(
        op.f("ix_xero_document_states_account_id"), "xero_document_states", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_xero_document_states_account_id"), table_name="xero_document_states")
    op.drop_table("xero_document_states")
    # PostgreSQL cannot drop enum values; what used them goes, the values stay in the types.
    op.execute("DELETE FROM documents WHERE kind IN ('rollback_payment', 'rollback_document')")
    op.execute("UPDATE documents SET status = 'superseded' WHERE status = 'rolled_back'")
    _recreate(REPEATABLE_BEFORE)
