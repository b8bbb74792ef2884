"""delivery: leased claims (several deliverers on one database) and an index for the retention purge

Revision ID: d0002
Revises: d0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "d0002"
down_revision = "d0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_messages") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_delivery_messages_done", "delivery_messages", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_messages_done", "delivery_messages")
    with op.batch_alter_table("delivery_messages") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
