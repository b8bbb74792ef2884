"""metrics: indexes for the SLA board over a large backlog of running clocks

Revision ID: m0005
Revises: m0004
Create Date: 2026-11-24

With 100k leads and tens of thousands of clocks not yet met (a breached clock stays on the board
until its first touch), the board's queries scanned the table: the 50 most urgent clocks sorted
every running clock, the counts and the per-rep summary read every row. A partial index on the
deadline of running clocks gives the 50 most urgent in index order; a covering index on
(status, team, rep, deadline, escalations) answers the counts and the per-rep summary from the
index alone. Partial indexes: PostgreSQL and SQLite (3.8+) both.
"""

import sqlalchemy as sa
from alembic import op

revision = "m0005"
down_revision = "m0004"
branch_labels = None
depends_on = None

_RUNNING = sa.text("status IN ('open', 'warned', 'breached')")


def upgrade() -> None:
    op.create_index(
        "ix_metrics_sla_clocks_running_due",
        "metrics_sla_clocks",
        ["breach_at"],
        postgresql_where=_RUNNING,
        sqlite_where=_RUNNING,
    )
    op.create_index(
        "ix_metrics_sla_clocks_owner",
        "metrics_sla_clocks",
        ["status", "team", "rep_id", "breach_at", "escalations"],
    )


def downgrade() -> None:
    op.drop_index("ix_metrics_sla_clocks_owner", "metrics_sla_clocks")
    op.drop_index("ix_metrics_sla_clocks_running_due", "metrics_sla_clocks")
