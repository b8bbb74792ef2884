"""Tables the router owns (migrations in services/router/migrations)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, MetaData, String, Table

from shared.db.tables import BigId, UtcDateTime, inbox_table, outbox_table

metadata = MetaData()

inbox = inbox_table(metadata, "router_inbox")
outbox = outbox_table(metadata, "router_outbox")

decisions = Table(
    "router_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("decision_id", String(100), nullable=False),
    Column("lead_id", String(200), nullable=False),
    Column("trigger_event_id", String(100), nullable=False),
    Column("kind", String(30), nullable=False),  # qualification | assignment
    Column("outcome", String(50), nullable=False),
    Column("rule", String(200)),
    Column("ruleset_version", String(100)),
    Column("team", String(200)),
    Column("rep_id", String(200)),
    Column("policy", String(50)),
    Column("reasons", JSON, nullable=False),
    Column("event_time", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
)
Index("ix_router_decisions_lead", decisions.c.lead_id, decisions.c.id)

# Where each team's round robin stands: shared by every router instance.
rotation = Table(
    "router_rotation",
    metadata,
    Column("team", String(200), primary_key=True),
    Column("last_rep_id", String(200)),
    Column("assignments", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime()),
)
