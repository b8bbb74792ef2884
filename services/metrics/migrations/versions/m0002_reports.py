"""metrics: the fact log, report dimensions and stage timestamps per lead, time in stage

Revision ID: m0002
Revises: m0001
Create Date: 2026-11-29

Rows projected before this revision keep their stage counts but have no dimensions or stage
timestamps (their facts were never stored); re-project them from Kafka if the topics still hold them.
"""

import sqlalchemy as sa
from alembic import op

revision = "m0002"
down_revision = "m0001"
branch_labels = None
depends_on = None

_TIMES = (
    "first_touch_at",
    "mql_at",
    "queued_at",
    "assigned_at",
    "sal_at",
    "sql_at",
    "won_at",
    "lost_at",
    "disqualified_at",
    "nurturing_at",
    "rejected_at",
)
_STRINGS = (("campaign", 300), ("product_line", 100), ("team", 200), ("rep_id", 200), ("sla_first_touch", 20))


def upgrade() -> None:
    op.create_table(
        "metrics_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_metrics_events_lead", "metrics_events", ["lead_id", "occurred_at"])
    with op.batch_alter_table("metrics_leads") as batch:
        for name, length in _STRINGS:
            batch.add_column(sa.Column(name, sa.String(length)))
        for name in _TIMES:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("deal_value", sa.Float))
        batch.add_column(sa.Column("expected_close", sa.Date))
    with op.batch_alter_table("metrics_lead_stages") as batch:
        batch.add_column(sa.Column("seconds", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("metrics_lead_stages") as batch:
        batch.drop_column("seconds")
    with op.batch_alter_table("metrics_leads") as batch:
        for name in ("deal_value", "expected_close", *_TIMES, *(n for n, _ in _STRINGS)):
            batch.drop_column(name)
    op.drop_index("ix_metrics_events_lead", "metrics_events")
    op.drop_table("metrics_events")
