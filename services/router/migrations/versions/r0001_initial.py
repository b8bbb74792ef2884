"""router: inbox, outbox, decisions, rotation

Revision ID: r0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.db.migration_ops import create_inbox, create_outbox
from shared.db.tables import BigId

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_inbox("router_inbox")
    create_outbox("router_outbox")
    op.create_table(
        "router_decisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("trigger_event_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(50), nullable=False),
        sa.Column("rule", sa.String(200), nullable=True),
        sa.Column("ruleset_version", sa.String(100), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("rep_id", sa.String(200), nullable=True),
        sa.Column("policy", sa.String(50), nullable=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_router_decisions_lead", "router_decisions", ["lead_id", "id"])
    op.create_table(
        "router_rotation",
        sa.Column("team", sa.String(200), primary_key=True),
        sa.Column("last_rep_id", sa.String(200), nullable=True),
        sa.Column("assignments", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("router_rotation")
    op.drop_index("ix_router_decisions_lead", "router_decisions")
    op.drop_table("router_decisions")
    op.drop_table("router_outbox")
    op.drop_table("router_inbox")
