"""metrics: live SLA board, contacts, dashboard users, API keys and login sessions

Revision ID: m0003
Revises: m0002
Create Date: 2026-12-06

The SLA board fills from sla.* events consumed after this revision; clocks started before it
appear when their next event arrives (replay does not rebuild it: the fact log keeps only outcomes).
"""

import sqlalchemy as sa
from alembic import op

revision = "m0003"
down_revision = "m0002"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "metrics_sla_clocks",
        sa.Column("clock_id", sa.String(200), primary_key=True),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("target", sa.String(50), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        _at("started_at"),
        _at("warning_at"),
        _at("breach_at"),
        sa.Column("target_seconds", sa.Integer),
        sa.Column("timezone", sa.String(100)),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("last_action", sa.String(50)),
        _at("closed_at"),
        _at("updated_at", nullable=False),
    )
    op.create_index("ix_metrics_sla_clocks_status", "metrics_sla_clocks", ["status", "breach_at"])
    op.create_table(
        "metrics_contacts",
        sa.Column("lead_id", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("name", sa.String(400)),
        sa.Column("phone", sa.String(50)),
        sa.Column("company", sa.String(300)),
    )
    op.create_table(
        "metrics_users",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        _at("created_at", nullable=False),
        _at("disabled_at"),
    )
    op.create_table(
        "metrics_api_keys",
        sa.Column("key_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        _at("created_at", nullable=False),
        _at("revoked_at"),
    )
    op.create_table(
        "metrics_login_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        _at("expires_at", nullable=False),
    )
    op.create_index("ix_metrics_login_sessions_user", "metrics_login_sessions", ["username"])


def downgrade() -> None:
    op.drop_index("ix_metrics_login_sessions_user", "metrics_login_sessions")
    op.drop_table("metrics_login_sessions")
    op.drop_table("metrics_api_keys")
    op.drop_table("metrics_users")
    op.drop_table("metrics_contacts")
    op.drop_index("ix_metrics_sla_clocks_status", "metrics_sla_clocks")
    op.drop_table("metrics_sla_clocks")
