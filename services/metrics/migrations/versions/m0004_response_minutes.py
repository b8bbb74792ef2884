"""metrics: speed-to-lead durations in minutes on each lead row, backfilled

Revision ID: m0004
Revises: m0003
Create Date: 2026-11-24

The response-time report sorted three interval subtractions per lead on every request; the
fold now stores them (`services/metrics/projection/delays.py`). Existing rows are backfilled
here: one UPDATE on PostgreSQL (date_part on the interval, double precision, what the report
computed before), the same Python arithmetic as the fold on SQLite. `leadrelay replay` writes
them too.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "m0004"
down_revision = "m0003"
branch_labels = None
depends_on = None

_COLUMNS = ("speed_minutes", "system_minutes", "rep_minutes")
_PG_BACKFILL = """UPDATE metrics_leads SET
  speed_minutes = date_part('epoch', first_touch_at - captured_at) / 60,
  system_minutes = date_part('epoch', assigned_at - captured_at) / 60,
  rep_minutes = date_part('epoch', first_touch_at - assigned_at) / 60
WHERE captured_at IS NOT NULL OR assigned_at IS NOT NULL"""


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _minutes(later: datetime | None, earlier: datetime | None) -> float | None:
    return None if later is None or earlier is None else (later - earlier).total_seconds() / 60


def _backfill_sqlite() -> None:
    """A page of leads at a time (by id), so a large file is never held in memory at once."""
    bind = op.get_bind()
    page = sa.text(
        "SELECT lead_id, captured_at, assigned_at, first_touch_at FROM metrics_leads "
        "WHERE lead_id > :after ORDER BY lead_id LIMIT 5000"
    )
    update = sa.text(
        "UPDATE metrics_leads SET speed_minutes = :speed, system_minutes = :system, "
        "rep_minutes = :rep WHERE lead_id = :lead_id"
    )
    after = ""
    while rows := bind.execute(page, {"after": after}).all():
        params = []
        for lead_id, captured, assigned, touched in rows:
            c, a, t = _utc(captured), _utc(assigned), _utc(touched)
            params.append(
                {"lead_id": lead_id, "speed": _minutes(t, c), "system": _minutes(a, c), "rep": _minutes(t, a)}
            )
        bind.execute(update, params)
        after = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("metrics_leads") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.Float))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_BACKFILL)
    else:
        _backfill_sqlite()


def downgrade() -> None:
    with op.batch_alter_table("metrics_leads") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
