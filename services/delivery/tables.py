"""Tables the deliverer owns (migrations in services/delivery/migrations, `delivery_alembic_version`).

`delivery_messages` is the durable queue: one row per (event, target), where a target is a webhook
endpoint, a rep's Slack or email, or a CRM. Its stable `message_id` is the dedupe: a redelivered
event can never make a second message, so a rep is never notified twice for one event.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db.tables import BigId, UtcDateTime

metadata = MetaData()

messages = Table(
    "delivery_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(100), nullable=False, unique=True),
    Column("event_id", String(100), nullable=False),
    Column("target", String(250), nullable=False),  # webhook:<endpoint> | slack:<who> | email:<who> | crm:<x>
    Column("lead_id", String(200), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the CloudEvent as consumed
    Column("status", String(20), nullable=False),  # pending | delivered | dead
    Column("tries", Integer, nullable=False, server_default="0"),  # in this round (a replay resets it)
    Column("attempts", Integer, nullable=False, server_default="0"),  # ever
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("last_status", Integer),
    Column("last_error", Text),
    # Set before a send that cannot be deduplicated downstream (Slack, email): after a crash, such a
    # message is not sent again (at most once), it is dead-lettered for a person to decide.
    Column("sending_since", UtcDateTime()),
    # A leased claim (claims_repository.py): the deliverer instance sending this message, and until
    # when; renewed while it works, so only a crashed or stalled instance's claim runs out.
    Column("claimed_by", String(100)),
    Column("lease_until", UtcDateTime()),
)
Index("ix_delivery_messages_due", messages.c.status, messages.c.next_attempt_at)
Index("ix_delivery_messages_done", messages.c.status, messages.c.updated_at)  # the retention purge
Index("ix_delivery_messages_order", messages.c.target, messages.c.lead_id, messages.c.status, messages.c.id)

attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_pk", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("status_code", Integer),
    Column("outcome", String(20), nullable=False),  # delivered | retry | dead | gone
    Column("reason", Text, nullable=False),
)
Index("ix_delivery_attempts_message", attempts.c.message_pk, attempts.c.attempt)

targets = Table(
    "delivery_targets",
    metadata,
    Column("target", String(250), primary_key=True),
    Column("disabled_at", UtcDateTime()),
    Column("disabled_reason", Text),
)

# What notifications need to say who and which company: kept from lead.captured and sla.started,
# erased with the lead. Nothing here is ever logged.
leads = Table(
    "delivery_leads",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("source", String(200)),
    Column("person", JSON),  # {"first_name", "last_name", "company", "title"}
    Column("facts", JSON),  # {"breach_at", "sla_timezone", "score"}: latest sla.started, qualification
    Column("updated_at", UtcDateTime(), nullable=False),
)
