"""router: outbox rows that keep failing are parked with their reason

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-24
"""

from shared.db.migration_ops import add_outbox_parking, drop_outbox_parking

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking("router_outbox")


def downgrade() -> None:
    drop_outbox_parking("router_outbox")
