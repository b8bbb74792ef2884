"""Tables the ingest service owns: deliveries it has already accepted (idempotency)."""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table, Text

from shared.db.tables import BigId, UtcDateTime

metadata = MetaData()

# One row per accepted delivery, scoped by source and endpoint: the same key on another endpoint is
# another delivery. The body hash tells a retry from a reuse of the key. Append-only, with no index
# on the key (i0007): every accepted webhook writes a row, and a random B-tree insert on the key
# was most of that write. The ledger keeps every key of the retry span in memory with its time
# (ledger.py), so a lookup reads the `created_at` index, which rows extend at its end.
deliveries = Table(
    "ingest_delivery_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("scope", String(50), nullable=False),
    Column("delivery_key", String(300), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("lead_id", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
Index("ix_ingest_delivery_ledger_created", deliveries.c.created_at)

# Every event ingest published, kept for the republish window: an in-memory broker that restarts
# forgets what it acknowledged, and this is what puts it back (shared/kafka/reset.py).
journal = Table(
    "ingest_journal",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False),
    Column("topic", String(250), nullable=False),
    Column("key", Text, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
)
Index("ix_ingest_journal_published", journal.c.published_at)
# No index on `key`: an erasure scans the window instead of every request paying a random insert (i0006).

# Which leads an email address came in with, so a sales tool can address an activity by email
# (the latest capture wins) and an erasure finds every lead of the person (one row per lead, i0005).
# The address is kept only as a SHA-256 of its normalised form.
leads_by_email = Table(
    "ingest_leads_by_email",
    metadata,
    Column("email_hash", String(64), primary_key=True),
    Column("lead_id", String(200), primary_key=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)
