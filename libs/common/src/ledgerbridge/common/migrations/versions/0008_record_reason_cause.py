"""record reason cause, records by source date

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What a waiting or failed record depends on (which mapping, setting or connection), so a fix can
    # find the records it frees.
    op.add_column("source_records", sa.Column("reason_cause", postgresql.JSONB(), nullable=True))
    op.create_index("ix_source_records_account_source_date", "source_records", ["account_id", "source_date"])


def downgrade() -> None:
    op.drop_index("ix_source_records_account_source_date", table_name="source_records")
    op.drop_column("source_records", "reason_cause")
