"""Tables the metrics service owns (migrations in services/metrics/migrations)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, UniqueConstraint

from shared.db.tables import BigId, UtcDateTime, inbox_table

metadata = MetaData()

inbox = inbox_table(metadata, "metrics_inbox")

# Append-only: every stage entry, re-entries included, on event time.
transitions = Table(
    "metrics_transitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False),
    Column("lead_id", String(200), nullable=False),
    Column("stage", String(50), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("event_id", "stage", name="uq_metrics_transitions_event_stage"),
)
Index("ix_metrics_transitions_lead", transitions.c.lead_id, transitions.c.occurred_at)

# One row per lead: what the funnel groups by.
leads = Table(
    "metrics_leads",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("source", String(200)),
    Column("captured_at", UtcDateTime()),
    Column("furthest_rank", Integer),
    Column("updated_at", UtcDateTime(), nullable=False),
)
Index("ix_metrics_leads_cohort", leads.c.captured_at, leads.c.source)

# Per lead and stage: first and last entry, and how many times (time-in-stage is cumulative).
lead_stages = Table(
    "metrics_lead_stages",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("stage", String(50), primary_key=True),
    Column("first_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("entries", BigInteger, nullable=False),
)
Index("ix_metrics_lead_stages_stage", lead_stages.c.stage)
