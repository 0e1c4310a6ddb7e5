"""Xero contact names kept per organisation (clashes predicted, not provoked) and a day limit per connection

Revision ID: 0011
Revises: 0015
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("connections", sa.Column("day_limit", sa.Integer(), server_default="5000", nullable=False))
    op.create_table(
        "xero_contact_directories",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_xero_contact_directories_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_xero_contact_directories")),
    )
    op.create_table(
        "xero_contact_names",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=500), nullable=True),
        sa.Column("contact_number", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_xero_contact_names_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "contact_id", name=op.f("pk_xero_contact_names")),
    )
    op.create_index(
        "ix_xero_contact_names_connection_name", "xero_contact_names", ["connection_id", "name_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_xero_contact_names_connection_name", table_name="xero_contact_names")
    op.drop_table("xero_contact_names")
    op.drop_table("xero_contact_directories")
    op.drop_column("connections", "day_limit")
