"""ingest: every lead of an email address (not only the latest), and journal entries by lead

Erasure (services/ingest/erasure) must find every lead a person came in with, so the email index
keeps one row per (address, lead); the journal gets an index on its key (the lead id) so an erasure
rewrites one lead's entries without reading the whole window.

Revision ID: i0005
Revises: i0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "i0005"
down_revision = "i0004"
branch_labels = None
depends_on = None


def _index_table(name: str, key: list[str]) -> None:
    op.create_table(
        name,
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def _rebuild(key: list[str], scratch: str) -> None:
    """Create with the new key, copy, drop, rename: the same steps on SQLite and PostgreSQL (a new
    table under a new name, so PostgreSQL's primary key index name never collides)."""
    _index_table(scratch, key)
    names = ("email_hash", "lead_id", "updated_at")
    source = sa.table("ingest_leads_by_email", *(sa.column(n) for n in names))
    target = sa.table(scratch, *(sa.column(n) for n in names))
    op.execute(target.insert().from_select(list(names), sa.select(*(source.c[n] for n in names))))
    op.drop_table("ingest_leads_by_email")
    op.rename_table(scratch, "ingest_leads_by_email")


def upgrade() -> None:
    _rebuild(["email_hash", "lead_id"], "ingest_leads_by_email_i5")
    op.create_index("ix_ingest_journal_key", "ingest_journal", ["key"])


def downgrade() -> None:
    op.drop_index("ix_ingest_journal_key", "ingest_journal")
    # Back to one row per address: keep each address's latest lead.
    op.execute(
        "DELETE FROM ingest_leads_by_email WHERE EXISTS (SELECT 1 FROM ingest_leads_by_email AS newer "
        "WHERE newer.email_hash = ingest_leads_by_email.email_hash "
        "AND (newer.updated_at > ingest_leads_by_email.updated_at OR (newer.updated_at = "
        "ingest_leads_by_email.updated_at AND newer.lead_id > ingest_leads_by_email.lead_id)))"
    )
    _rebuild(["email_hash"], "ingest_leads_by_email_i4")
