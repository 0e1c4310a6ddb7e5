"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:57:28.378126
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM_TYPES = (
    "plan",
    "role",
    "connection_kind",
    "connection_status",
    "mapping_kind",
    "outbox_status",
    "import_status",
    "record_status",
    "document_kind",
    "document_status",
)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.Enum("trial", "pro", name="plan"), nullable=False),
        sa.Column("trial_limit", sa.Integer(), nullable=False),
        sa.Column("trial_used", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("trial_used >= 0", name=op.f("ck_accounts_trial_used_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "account_settings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_settings")),
    )
    op.create_table(
        "connections",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("xero", "ontraport", "onport", name="connection_kind"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "active", "error", "disconnected", name="connection_status"),
            nullable=False,
        ),
        sa.Column("credentials", sa.LargeBinary(), nullable=False),
        sa.Column("xero_tenant_id", sa.String(length=64), nullable=True),
        sa.Column("xero_connection_id", sa.Uuid(), nullable=True),
        sa.Column("webhook_token", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_connections_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["connections.id"],
            name=op.f("fk_connections_xero_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("webhook_token", name=op.f("uq_connections_webhook_token")),
    )
    op.create_index(op.f("ix_connections_account_id"), "connections", ["account_id"], unique=False)
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=50), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_inbox_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("consumer", "message_key", name=op.f("pk_inbox")),
    )
    op.create_table(
        "mappings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "product",
                "coupon",
                "tax",
                "shipping",
                "gateway",
                "vendor",
                "purchase_type",
                name="mapping_kind",
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("target", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_mappings_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mappings")),
        sa.UniqueConstraint(
            "account_id", "kind", "source_id", name=op.f("uq_mappings_account_id_kind_source_id")
        ),
    )
    op.create_index(op.f("ix_mappings_account_id"), "mappings", ["account_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("queue", sa.String(length=50), nullable=False),
        sa.Column("message_type", sa.String(length=80), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status", sa.Enum("pending", "sent", "done", "failed", name="outbox_status"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_outbox_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], unique=False, postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_outbox_unfinished",
        "outbox",
        ["sent_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sent')"),
    )
    op.create_table(
        "tax_exception_rules",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tax_type", sa.String(length=50), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tax_exception_rules_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_exception_rules")),
    )
    op.create_index(
        op.f("ix_tax_exception_rules_account_id"), "tax_exception_rules", ["account_id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.Enum("owner", "bookkeeper", name="role"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_users_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_account_id"), "users", ["account_id"], unique=False)
    op.create_table(
        "imports",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status", sa.Enum("queued", "running", "done", "failed", name="import_status"), nullable=False
        ),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.String(length=100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_imports_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_imports_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_account_id"), "imports", ["account_id"], unique=False)
    op.create_table(
        "poll_cursors",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=50), nullable=False),
        sa.Column("high_water_mark", sa.String(length=100), nullable=True),
        sa.Column("window_offset", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_poll_cursors_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_cursors")),
        sa.UniqueConstraint("connection_id", "stream", name=op.f("uq_poll_cursors_connection_id_stream")),
    )
    op.create_index(op.f("ix_poll_cursors_next_poll_at"), "poll_cursors", ["next_poll_at"], unique=False)
    op.create_table(
        "source_records",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("received", "mapped", "synced", "skipped", "failed", "waiting", name="record_status"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(length=50), nullable=True),
        sa.Column("source_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_source_records_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_source_records_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "account_id",
            "source",
            "kind",
            "external_id",
            name=op.f("uq_source_records_account_id_source_kind_external_id"),
        ),
    )
    op.create_index(
        "ix_source_records_account_status", "source_records", ["account_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_source_records_connection_id"), "source_records", ["connection_id"], unique=False
    )
    op.create_table(
        "documents",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("xero_connection_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "contact",
                "invoice",
                "payment",
                "credit_note",
                "refund_payment",
                "payment_delete",
                "invoice_void",
                "bill",
                "bill_payment",
                "supplier_credit_note",
                name="document_kind",
            ),
            nullable=False,
        ),
        sa.Column("mapping_version", sa.String(length=80), nullable=False),
        sa.Column("request_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sending", "published", "failed", "superseded", name="document_status"),
            nullable=False,
        ),
        sa.Column("xero_id", sa.String(length=64), nullable=True),
        sa.Column("xero_number", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_documents_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["source_records.id"],
            name=op.f("fk_documents_record_id_source_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["xero_connection_id"],
            ["connections.id"],
            name=op.f("fk_documents_xero_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_documents_idempotency_key")),
    )
    op.create_index(op.f("ix_documents_account_id"), "documents", ["account_id"], unique=False)
    op.create_index(op.f("ix_documents_record_id"), "documents", ["record_id"], unique=False)
    op.create_index(
        "uq_documents_record_kind_published",
        "documents",
        ["record_id", "kind"],
        unique=True,
        postgresql_where=sa.text("status = 'published' AND kind NOT IN ('credit_note', 'refund_payment')"),
    )
    op.create_table(
        "record_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_record_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["source_records.id"],
            name=op.f("fk_record_events_record_id_source_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_events")),
    )
    op.create_index(op.f("ix_record_events_record_id"), "record_events", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_record_events_record_id"), table_name="record_events")
    op.drop_table("record_events")
    op.drop_index(
        "uq_documents_record_kind_published",
        table_name="documents",
        postgresql_where=sa.text("status = 'published' AND kind NOT IN ('credit_note', 'refund_payment')"),
    )
    op.drop_index(op.f("ix_documents_record_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_account_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_index(op.f("ix_source_records_connection_id"), table_name="source_records")
    op.drop_index("ix_source_records_account_status", table_name="source_records")
    op.drop_table("source_records")
    op.drop_index(op.f("ix_poll_cursors_next_poll_at"), table_name="poll_cursors")
    op.drop_table("poll_cursors")
    op.drop_index(op.f("ix_imports_account_id"), table_name="imports")
    op.drop_table("imports")
    op.drop_index(op.f("ix_users_account_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_tax_exception_rules_account_id"), table_name="tax_exception_rules")
    op.drop_table("tax_exception_rules")
    op.drop_index(
        "ix_outbox_unfinished", table_name="outbox", postgresql_where=sa.text("status IN ('pending', 'sent')")
    )
    op.drop_index("ix_outbox_pending", table_name="outbox", postgresql_where=sa.text("status = 'pending'"))
    op.drop_table("outbox")
    op.drop_index(op.f("ix_mappings_account_id"), table_name="mappings")
    op.drop_table("mappings")
    op.drop_table("inbox")
    op.drop_index(op.f("ix_connections_account_id"), table_name="connections")
    op.drop_table("connections")
    op.drop_table("account_settings")
    op.drop_table("accounts")
    # drop_table leaves PostgreSQL enum types behind; without this an upgrade after a downgrade fails.
    for enum_name in ENUM_TYPES:
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
