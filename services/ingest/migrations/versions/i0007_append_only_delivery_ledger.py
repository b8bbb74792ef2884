"""ingest: the delivery ledger is appended to, with no index on the key

Every accepted webhook (and every request with an Idempotency-Key) writes a ledger row, and the
table's primary key on (source, scope, delivery_key) made each write a random B-tree insert: on
SQLite ~12-14 µs of CPU of a ~20 µs row (batches of 16 into 100,000 rows; the wall time twice
that), the largest part of a signed webhook's after-ack write. The new table has a surrogate id
and the `created_at` index only, which rows extend at their end. The ledger keeps every key of
the retry span in memory with its time (services/ingest/ledger.py), so the rare database lookup
(a repeat after a restart, or after the recent-record cache let it go) reads that index.

The rows are copied in time order. Two instances may now both record one key (they share the
table, not their memory); the first row wins on a lookup, and both carry the same event id.

Revision ID: i0007
Revises: i0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "i0007"
down_revision = "i0006"
branch_labels = None
depends_on = None

_COLUMNS = "source, scope, delivery_key, body_hash, event_id, lead_id, created_at"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid itself
# Fixed text, no input in it.
_COPY_UP = (
    f"INSERT INTO ingest_delivery_ledger ({_COLUMNS}) "  # noqa: S608
    f"SELECT {_COLUMNS} FROM ingest_idempotency ORDER BY created_at"
)
_COPY_DOWN = (
    f"INSERT INTO ingest_idempotency ({_COLUMNS}) SELECT {_COLUMNS} FROM ingest_delivery_ledger "  # noqa: S608
    "WHERE id IN (SELECT min(id) FROM ingest_delivery_ledger GROUP BY source, scope, delivery_key)"
)


def upgrade() -> None:
    op.create_table(
        "ingest_delivery_ledger",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(50), nullable=False),
        sa.Column("delivery_key", sa.String(300), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_delivery_ledger_created", "ingest_delivery_ledger", ["created_at"])
    op.execute(_COPY_UP)
    op.drop_index("ix_ingest_idempotency_created", "ingest_idempotency")
    op.drop_table("ingest_idempotency")


def downgrade() -> None:
    op.create_table(
        "ingest_idempotency",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("scope", sa.String(50), primary_key=True),
        sa.Column("delivery_key", sa.String(300), primary_key=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_idempotency_created", "ingest_idempotency", ["created_at"])
    # One row per key again: the first recorded, as lookups answered.
    op.execute(_COPY_DOWN)
    op.drop_index("ix_ingest_delivery_ledger_created", "ingest_delivery_ledger")
    op.drop_table("ingest_delivery_ledger")
