"""All SQL of access control: users, API keys, login sessions (hashes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.auth.principal import Principal, Role, as_role
from services.metrics.tables import api_keys, login_sessions, users


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class UserRow:
    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


class AuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- users
    async def password_hash(self, username: str) -> tuple[str, Role] | None:
        """The stored hash and role of an enabled user."""
        stmt = select(users.c.password_hash, users.c.role).where(
            users.c.username == username, users.c.disabled_at.is_(None)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], as_role(row[1])) if row else None

    async def upsert_user(self, username: str, password_hash: str, role: Role, now: datetime) -> bool:
        """Create the user, or set its password and role (and enable it); True when created."""
        found = (
            await self.session.execute(select(users.c.username).where(users.c.username == username))
        ).first()
        values = {"password_hash": password_hash, "role": role, "disabled_at": None}
        if found:
            await self.session.execute(update(users).where(users.c.username == username).values(**values))
            return False
        await self.session.execute(insert(users).values(username=username, created_at=now, **values))
        return True

    async def has_admin(self) -> bool:
        stmt = select(users.c.username).where(users.c.role == "admin", users.c.disabled_at.is_(None))
        return (await self.session.execute(stmt.limit(1))).first() is not None

    async def disable_user(self, username: str, now: datetime) -> bool:
        stmt = update(users).where(users.c.username == username, users.c.disabled_at.is_(None))
        result = await self.session.execute(stmt.values(disabled_at=now))
        await self.session.execute(delete(login_sessions).where(login_sessions.c.username == username))
        return bool(getattr(result, "rowcount", 0))

    async def list_users(self) -> list[UserRow]:
        stmt = select(users.c.username, users.c.role, users.c.created_at, users.c.disabled_at)
        return [UserRow(*row) for row in await self.session.execute(stmt.order_by(users.c.username))]

    # --- login sessions
    async def add_session(self, token_hash: str, username: str, expires_at: datetime) -> None:
        await self.session.execute(
            insert(login_sessions).values(token_hash=token_hash, username=username, expires_at=expires_at)
        )

    async def session_user(self, token_hash: str, now: datetime) -> Principal | None:
        stmt = (
            select(users.c.username, users.c.role)
            .join(login_sessions, login_sessions.c.username == users.c.username)
            .where(
                login_sessions.c.token_hash == token_hash,
                login_sessions.c.expires_at > now,
                users.c.disabled_at.is_(None),
            )
        )
        row = (await self.session.execute(stmt)).first()
        return Principal(row[0], as_role(row[1]), "user") if row else None

    async def end_session(self, token_hash: str, now: datetime) -> None:
        await self.session.execute(delete(login_sessions).where(login_sessions.c.token_hash == token_hash))
        await self.session.execute(delete(login_sessions).where(login_sessions.c.expires_at <= now))

    # --- API keys
    async def add_key(self, key_id: str, name: str, key_hash: str, role: Role, now: datetime) -> None:
        await self.session.execute(
            insert(api_keys).values(key_id=key_id, name=name, key_hash=key_hash, role=role, created_at=now)
        )

    async def key_principal(self, key_hash: str) -> Principal | None:
        stmt = select(api_keys.c.name, api_keys.c.role).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        row = (await self.session.execute(stmt)).first()
        return Principal(row[0], as_role(row[1]), "key") if row else None

    async def revoke_key(self, key_id: str, now: datetime) -> bool:
        stmt = update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        result = await self.session.execute(stmt.values(revoked_at=now))
        return bool(getattr(result, "rowcount", 0))

    async def list_keys(self) -> list[KeyRow]:
        cols = (
            api_keys.c.key_id,
            api_keys.c.name,
            api_keys.c.role,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
        )
        return [
            KeyRow(*row) for row in await self.session.execute(select(*cols).order_by(api_keys.c.created_at))
        ]
