"""user session version; stored templates that the template grammar refuses are reset

``users.session_version`` is carried by every access token and checked on each request: removing a user
or resetting a password bumps it and every session of that user ends at once (issue 10, finding 7).

Invoice number and reference templates are now limited to documented placeholders without format spec
(issue 10, finding 1); a stored template outside that grammar (or longer than 255 characters) is removed,
so the default applies again, rather than failing every read of the tenant's settings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDERS = (
    "transaction_id|invoice_id|order_id|external_order_id|contact_id|first_name|last_name|gateway_id"
)


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    for name in ("invoice_number_template", "reference_template"):
        # Valid: after removing escaped braces and documented placeholders no brace is left.
        template = f"account_settings.values -> 'ontraport' ->> '{name}'"
        op.execute(
            sa.text(
                f"UPDATE account_settings SET values = jsonb_set(values, '{{ontraport}}', "  # noqa: S608
                f"(values -> 'ontraport') - '{name}') "
                f"WHERE {template} IS NOT NULL AND ("
                f"length({template}) > 255 OR btrim({template}) = '' OR "
                f"regexp_replace(regexp_replace({template}, '\\{{\\{{|\\}}\\}}', '', 'g'), "
                f"'\\{{({PLACEHOLDERS})\\}}', '', 'g') ~ '[{{}}]')"
            )
        )


def downgrade() -> None:
    op.drop_column("users", "session_version")
