"""router: SLA clocks and durable SLA timers

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from shared.db.tables import BigId

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "router_sla_clocks",
        sa.Column("clock_id", sa.String(100), primary_key=True),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("target", sa.String(50), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breach_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pauses", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_router_sla_clocks_lead", "router_sla_clocks", ["lead_id", "status"])
    op.create_table(
        "router_sla_timers",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("timer_id", sa.String(100), nullable=False, unique=True),
        sa.Column("clock_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("action", sa.String(30), nullable=True),
        sa.Column("queue", sa.String(200), nullable=True),
        sa.Column("step", sa.Integer, nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_router_sla_timers_due", "router_sla_timers", ["state", "due_at"])
    op.create_index("ix_router_sla_timers_clock", "router_sla_timers", ["clock_id"])


def downgrade() -> None:
    op.drop_index("ix_router_sla_timers_clock", "router_sla_timers")
    op.drop_index("ix_router_sla_timers_due", "router_sla_timers")
    op.drop_table("router_sla_timers")
    op.drop_index("ix_router_sla_clocks_lead", "router_sla_clocks")
    op.drop_table("router_sla_clocks")
