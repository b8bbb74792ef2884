"""ingest: the journal loses its index on the lead id

Every accepted request writes a journal row, and the key index (i0005) was the most expensive part
of that write: a random B-tree insert on a lead id, ~15 µs of a request's CPU on SQLite
(bench/ingest_ablation.py). Its one reader is an erasure, which now reads the journal's window
(24 h by default) once instead: a rare admin call pays a scan so that every lead does not pay.

Revision ID: i0006
Revises: i0005
Create Date: 2026-11-24
"""

from alembic import op

revision = "i0006"
down_revision = "i0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ingest_journal_key", "ingest_journal")


def downgrade() -> None:
    op.create_index("ix_ingest_journal_key", "ingest_journal", ["key"])
