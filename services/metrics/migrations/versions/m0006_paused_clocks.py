"""metrics: paused SLA clocks on the board (sla.paused / sla.resumed)

Revision ID: m0006
Revises: m0005
Create Date: 2026-11-24

A paused clock leaves the running set (status `paused`, so the board's partial index and counts
no longer see it as due), keeps the status it will resume to, and says why it is paused.
"""

import sqlalchemy as sa
from alembic import op

revision = "m0006"
down_revision = "m0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metrics_sla_clocks") as batch:
        batch.add_column(sa.Column("pause_reason", sa.String(200)))
        batch.add_column(sa.Column("status_before_pause", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("metrics_sla_clocks") as batch:
        batch.drop_column("status_before_pause")
        batch.drop_column("pause_reason")
