"""Tables the router owns (migrations in services/router/migrations)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Index, Integer, MetaData, String, Table

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
    Column("detail", JSON),  # the whole decision record (r0004), on the qualification row
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

# SLA clocks: one per (lead, policy, start), open until its stop event (services/router/sla/).
sla_clocks = Table(
    "router_sla_clocks",
    metadata,
    Column("clock_id", String(100), primary_key=True),
    Column("lead_id", String(200), nullable=False),
    Column("policy", String(200), nullable=False),
    Column("target", String(50), nullable=False),
    Column("team", String(200), nullable=False),
    Column("rep_id", String(200)),
    Column("source", String(200), nullable=False),
    Column("captured_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("breach_at", UtcDateTime()),
    Column("pauses", JSON, nullable=False),  # [[from, to | null], ...] ISO instants
    Column("status", String(20), nullable=False),  # open | met | cancelled
    Column("stopped_at", UtcDateTime()),
)
Index("ix_router_sla_clocks_lead", sla_clocks.c.lead_id, sla_clocks.c.status)

# Durable timers: a row per warning / breach / ladder step, fired once (state pending -> fired).
sla_timers = Table(
    "router_sla_timers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("timer_id", String(100), nullable=False, unique=True),
    Column("clock_id", String(100), nullable=False),
    Column("lead_id", String(200), nullable=False),
    Column("key", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # warning | breach | escalation
    Column("action", String(30)),
    Column("queue", String(200)),
    Column("step", Integer),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("state", String(20), nullable=False),  # pending | fired | cancelled
    Column("claimed_by", String(100)),  # SQLite's single-writer claim marks its rows with a token
    Column("fired_at", UtcDateTime()),
)
Index("ix_router_sla_timers_due", sla_timers.c.state, sla_timers.c.due_at)
Index("ix_router_sla_timers_clock", sla_timers.c.clock_id)

# Durable routing counters per rep (r0004): open leads, today's and this week's assignments in the
# rep's local periods, the weighted credit and the team sequence of its last assignment. Read and
# written under the team's rotation row lock, so caps and fairness hold across instances.
rep_counters = Table(
    "router_rep_counters",
    metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("team", String(200), nullable=False),
    Column("open_leads", Integer, nullable=False, server_default="0"),
    Column("day_key", String(10), nullable=False, server_default=""),
    Column("day_count", Integer, nullable=False, server_default="0"),
    Column("week_key", String(10), nullable=False, server_default=""),
    Column("week_count", Integer, nullable=False, server_default="0"),
    Column("credit", BigInteger, nullable=False, server_default="0"),
    Column("last_seq", BigInteger, nullable=False, server_default="-1"),
)

# Who owns each assigned lead while it is open (to release the rep's open-lead count on close).
lead_owners = Table(
    "router_lead_owners",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("rep_id", String(200), nullable=False),
    Column("team", String(200), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("assigned_at", UtcDateTime(), nullable=False),
)

# One row per person (identity key): the merged lead, signals with their times, what was decided.
# Backtests replay these through candidate rules.
profiles = Table(
    "router_profiles",
    metadata,
    Column("profile_key", String(400), primary_key=True),
    Column("lead_id", String(200), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("signals", JSON, nullable=False),  # [[signal, ISO time], ...]
    Column("source", String(200), nullable=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("submissions", Integer, nullable=False),
    Column("routed_at", UtcDateTime()),
    Column("outcome", String(50)),
    Column("owner", String(200)),
    Column("team", String(200)),
    Column("account", String(300)),
    Column("score", Float),
)
Index("ix_router_profiles_last_seen", profiles.c.last_seen)
