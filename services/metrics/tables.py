"""Tables the metrics service owns (migrations in services/metrics/migrations)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

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

# The metrics log: one PII-free fact per event handled (live or imported). Everything below is a
# fold over it, so `leadrelay replay` rebuilds the read model from this table alone.
events = Table(
    "metrics_events",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("lead_id", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("body", JSON, nullable=False),
)
Index("ix_metrics_events_lead", events.c.lead_id, events.c.occurred_at)

# One row per lead, denormalised so every report is one GROUP BY over this table: the dimensions,
# the first time each stage was reached, the deal, and the SLA outcome (all on event time).
leads = Table(
    "metrics_leads",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("source", String(200)),
    Column("captured_at", UtcDateTime()),
    Column("furthest_rank", Integer),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("campaign", String(300)),
    Column("product_line", String(100)),
    Column("team", String(200)),
    Column("rep_id", String(200)),
    Column("first_touch_at", UtcDateTime()),
    Column("mql_at", UtcDateTime()),
    Column("queued_at", UtcDateTime()),
    Column("assigned_at", UtcDateTime()),
    Column("sal_at", UtcDateTime()),
    Column("sql_at", UtcDateTime()),
    Column("won_at", UtcDateTime()),
    Column("lost_at", UtcDateTime()),
    Column("disqualified_at", UtcDateTime()),
    Column("nurturing_at", UtcDateTime()),
    Column("rejected_at", UtcDateTime()),
    Column("deal_value", Float),
    Column("expected_close", Date),
    Column("sla_first_touch", String(20)),
    # Durations in minutes, computed once at fold time (m0004): what /v1/response-times sorts.
    Column("speed_minutes", Float),
    Column("system_minutes", Float),
    Column("rep_minutes", Float),
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
    Column("seconds", Float),  # cumulative closed time in stage; NULL while never left
)
Index("ix_metrics_lead_stages_stage", lead_stages.c.stage)

# --- the live dashboard (m0003) -------------------------------------------------------------------

# One row per SLA clock, folded from the router's sla.* events (metrics never reads the router's
# tables): what the live board shows. Status: open, warned, breached, paused, met.
sla_clocks = Table(
    "metrics_sla_clocks",
    metadata,
    Column("clock_id", String(200), primary_key=True),
    Column("lead_id", String(200), nullable=False),
    Column("policy", String(200), nullable=False),
    Column("target", String(50), nullable=False),
    Column("team", String(200), nullable=False),
    Column("rep_id", String(200)),
    Column("status", String(20), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("warning_at", UtcDateTime()),
    Column("breach_at", UtcDateTime()),
    Column("target_seconds", Integer),
    Column("timezone", String(100)),
    Column("escalations", Integer, nullable=False, default=0),
    Column("last_action", String(50)),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    # m0006: while paused, status is `paused`, the reason is kept and so is the status to resume to.
    Column("pause_reason", String(200)),
    Column("status_before_pause", String(20)),
)
# The board reads the not-yet-met clocks by deadline; closed ones are only counted.
Index("ix_metrics_sla_clocks_status", sla_clocks.c.status, sla_clocks.c.breach_at)
# m0005: the board's 50 most urgent running clocks in index order, and its counts and per-rep
# summary from the index alone (a backlog of tens of thousands of breached clocks stays fast).
_RUNNING = text("status IN ('open', 'warned', 'breached')")
Index(
    "ix_metrics_sla_clocks_running_due",
    sla_clocks.c.breach_at,
    postgresql_where=_RUNNING,
    sqlite_where=_RUNNING,
)
Index(
    "ix_metrics_sla_clocks_owner",
    sla_clocks.c.status,
    sla_clocks.c.team,
    sla_clocks.c.rep_id,
    sla_clocks.c.breach_at,
    sla_clocks.c.escalations,
)

# The captured person's contact, kept apart from the PII-free fact log so the dashboard can show
# it (masked for viewers) and erasure has one row to remove. Replay neither needs nor rebuilds it.
contacts = Table(
    "metrics_contacts",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("email", String(320)),
    Column("name", String(400)),
    Column("phone", String(50)),
    Column("company", String(300)),
)

# People who log in to the dashboard (password: salted scrypt) and integration keys (SHA-256 of
# a 256-bit random key: a slow hash adds nothing to a secret that cannot be guessed).
users = Table(
    "metrics_users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime()),
)
api_keys = Table(
    "metrics_api_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)
login_sessions = Table(
    "metrics_login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(100), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)
Index("ix_metrics_login_sessions_user", login_sessions.c.username)
