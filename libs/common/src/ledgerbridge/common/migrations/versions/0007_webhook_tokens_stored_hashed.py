"""webhook URL tokens are stored hashed

``connections.webhook_token`` now holds the SHA-256 (hex) of the token in the ONTRAPORT webhook and
Onport push URLs, like refresh tokens, so a database leak does not hand out working push URLs (issue 10,
finding 2). Existing tokens are hashed in place: the URLs partners already have keep working. The
downgrade cannot recover the tokens; owners rotate them (POST /v1/connections/{id}/webhook-token).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE connections SET webhook_token = encode(sha256(convert_to(webhook_token, 'UTF8')), 'hex') "
        "WHERE webhook_token IS NOT NULL"
    )


def downgrade() -> None:
    # Hashes cannot be turned back into tokens; the URLs stop working until the tokens are rotated.
    op.execute("UPDATE connections SET webhook_token = NULL WHERE webhook_token IS NOT NULL")
