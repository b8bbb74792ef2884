"""router: profiles, durable routing counters, lead owners, decision detail

Revision ID: r0004
Revises: r0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("router_decisions", sa.Column("detail", sa.JSON, nullable=True))
    op.create_table(
        "router_rep_counters",
        sa.Column("rep_id", sa.String(200), primary_key=True),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("open_leads", sa.Integer, nullable=False, server_default="0"),
        sa.Column("day_key", sa.String(10), nullable=False, server_default=""),
        sa.Column("day_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("week_key", sa.String(10), nullable=False, server_default=""),
        sa.Column("week_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("credit", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="-1"),
    )
    op.create_table(
        "router_lead_owners",
        sa.Column("lead_id", sa.String(200), primary_key=True),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "router_profiles",
        sa.Column("profile_key", sa.String(400), primary_key=True),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submissions", sa.Integer, nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(50), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("account", sa.String(300), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
    )
    op.create_index("ix_router_profiles_last_seen", "router_profiles", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_router_profiles_last_seen", "router_profiles")
    op.drop_table("router_profiles")
    op.drop_table("router_lead_owners")
    op.drop_table("router_rep_counters")
    with op.batch_alter_table("router_decisions") as batch:
        batch.drop_column("detail")
