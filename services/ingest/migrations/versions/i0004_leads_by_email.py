"""ingest: the latest lead per email address (hashed), to address activities by email

Revision ID: i0004
Revises: i0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "i0004"
down_revision = "i0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_leads_by_email",
        sa.Column("email_hash", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_leads_by_email")
