"""metrics: inbox, transition log, leads, lead stages

Revision ID: m0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from shared.db.migration_ops import create_inbox
from shared.db.tables import BigId

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_inbox("metrics_inbox")
    op.create_table(
        "metrics_transitions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "stage", name="uq_metrics_transitions_event_stage"),
    )
    op.create_index("ix_metrics_transitions_lead", "metrics_transitions", ["lead_id", "occurred_at"])
    op.create_table(
        "metrics_leads",
        sa.Column("lead_id", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(200)),
        sa.Column("captured_at", sa.DateTime(timezone=True)),
        sa.Column("furthest_rank", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_metrics_leads_cohort", "metrics_leads", ["captured_at", "source"])
    op.create_table(
        "metrics_lead_stages",
        sa.Column("lead_id", sa.String(200), primary_key=True),
        sa.Column("stage", sa.String(50), primary_key=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_metrics_lead_stages_stage", "metrics_lead_stages", ["stage"])


def downgrade() -> None:
    for index, table in (
        ("ix_metrics_lead_stages_stage", "metrics_lead_stages"),
        ("ix_metrics_leads_cohort", "metrics_leads"),
        ("ix_metrics_transitions_lead", "metrics_transitions"),
    ):
        op.drop_index(index, table)
        op.drop_table(table)
    op.drop_table("metrics_inbox")
