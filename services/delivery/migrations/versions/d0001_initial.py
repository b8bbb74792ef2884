"""delivery: messages (durable queue), attempts, targets (disabled endpoints), lead cache

Revision ID: d0001
Revises:
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from shared.db.tables import BigId

revision = "d0001"
down_revision = None
branch_labels = None
depends_on = None

_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(100), nullable=False, unique=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("target", sa.String(250), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _ts, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("sending_since", _ts, nullable=True),
    )
    op.create_index("ix_delivery_messages_due", "delivery_messages", ["status", "next_attempt_at"])
    op.create_index("ix_delivery_messages_order", "delivery_messages", ["target", "lead_id", "status", "id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_pk", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", _ts, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_delivery_attempts_message", "delivery_attempts", ["message_pk", "attempt"])
    op.create_table(
        "delivery_targets",
        sa.Column("target", sa.String(250), primary_key=True),
        sa.Column("disabled_at", _ts, nullable=True),
        sa.Column("disabled_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "delivery_leads",
        sa.Column("lead_id", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("person", sa.JSON, nullable=True),
        sa.Column("facts", sa.JSON, nullable=True),
        sa.Column("updated_at", _ts, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("delivery_leads")
    op.drop_table("delivery_targets")
    op.drop_index("ix_delivery_attempts_message", "delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index("ix_delivery_messages_order", "delivery_messages")
    op.drop_index("ix_delivery_messages_due", "delivery_messages")
    op.drop_table("delivery_messages")
