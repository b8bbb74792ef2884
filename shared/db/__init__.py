"""Database plumbing: async engine/session factory, per-service Alembic migrations, inbox and outbox."""

from shared.db.engine import create_engine, create_session_factory, is_transient_db_error, normalize_url

__all__ = ["create_engine", "create_session_factory", "is_transient_db_error", "normalize_url"]
