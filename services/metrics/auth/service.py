"""Use cases of access control: log in and out, bootstrap the first admin, manage keys and users."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.principal import Role
from services.metrics.auth.repository import AuthRepository
from services.metrics.auth.secrets import hash_password, new_api_key, new_token, token_hash, verify_password

# Compared against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-user")


async def login(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str, hours: float
) -> str | None:
    """A new session token for a valid login, else None."""
    async with sessions() as session, session.begin():
        repo = AuthRepository(session)
        found = await repo.password_hash(username)
        # scrypt is CPU-bound (~50 ms): off the event loop, so other requests keep flowing.
        ok = await asyncio.to_thread(verify_password, password, found[0] if found else _DUMMY_HASH)
        if not ok or found is None:
            return None
        token = new_token()
        await repo.add_session(token_hash(token), username, datetime.now(UTC) + timedelta(hours=hours))
        return token


async def logout(sessions: async_sessionmaker[AsyncSession], token: str) -> None:
    async with sessions() as session, session.begin():
        await AuthRepository(session).end_session(token_hash(token), datetime.now(UTC))


async def ensure_admin(sessions: async_sessionmaker[AsyncSession], username: str, password: str) -> bool:
    """Create the first admin when no enabled admin exists; True when one was created."""
    async with sessions() as session, session.begin():
        repo = AuthRepository(session)
        if await repo.has_admin():
            return False
        hashed = await asyncio.to_thread(hash_password, password)
        await repo.upsert_user(username, hashed, "admin", datetime.now(UTC))
        return True


async def set_user(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str, role: Role
) -> bool:
    async with sessions() as session, session.begin():
        hashed = await asyncio.to_thread(hash_password, password)
        return await AuthRepository(session).upsert_user(username, hashed, role, datetime.now(UTC))


async def create_key(sessions: async_sessionmaker[AsyncSession], name: str, role: Role) -> tuple[str, str]:
    """(key id, key): the key is shown once and only its hash is kept."""
    key_id, key = new_api_key()
    async with sessions() as session, session.begin():
        await AuthRepository(session).add_key(key_id, name, token_hash(key), role, datetime.now(UTC))
    return key_id, key


async def revoke_key(sessions: async_sessionmaker[AsyncSession], key_id: str) -> bool:
    async with sessions() as session, session.begin():
        return await AuthRepository(session).revoke_key(key_id, datetime.now(UTC))


async def disable_user(sessions: async_sessionmaker[AsyncSession], username: str) -> bool:
    async with sessions() as session, session.begin():
        return await AuthRepository(session).disable_user(username, datetime.now(UTC))
