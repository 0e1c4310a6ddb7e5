"""daily summaries: a sale's link to the summary record it went into

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Summary mode (issue 13): a sale points at the daily summary record that carries it to Xero. Both
    # go together with their connection (SET NULL keeps that cascade free of ordering).
    op.add_column(
        "source_records",
        sa.Column(
            "summary_record_id",
            sa.Uuid(),
            sa.ForeignKey("source_records.id", ondelete="SET NULL", name="fk_source_records_summary"),
            nullable=True,
        ),
    )
    op.create_index("ix_source_records_summary_record_id", "source_records", ["summary_record_id"])


def downgrade() -> None:
    op.drop_index("ix_source_records_summary_record_id", table_name="source_records")
    op.drop_column("source_records", "summary_record_id")
