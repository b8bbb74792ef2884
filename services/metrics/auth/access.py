"""Resolving and requiring a request's credentials (FastAPI dependencies).

An integration sends `X-API-Key: …` (or `Authorization: Bearer …`); a person's browser sends the
session cookie set by `POST /login`. Reports take either; `require_admin` also wants the admin role.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.principal import Principal
from services.metrics.auth.repository import AuthRepository
from services.metrics.auth.secrets import token_hash

SESSION_COOKIE = "leadrelay_session"


@dataclass(frozen=True)
class AccessConfig:
    """What the app knows outside the database: the env integration key, cookie policy."""

    env_key_hash: str | None = None
    session_hours: float = 12.0
    secure_cookies: bool = False  # outside dev the dashboard is behind TLS: cookies go only there


def access_config(request: Request) -> AccessConfig:
    found = getattr(request.app.state, "access", None)
    return found if isinstance(found, AccessConfig) else AccessConfig()


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authenticate(request: Request) -> Principal | None:
    """Who this request is, or None; checks the key first (integrations), then the cookie."""
    config = access_config(request)
    sessions: async_sessionmaker[AsyncSession] | None = getattr(request.app.state, "sessions", None)
    key = _presented_key(request)
    if key is not None:
        hashed = token_hash(key)
        if config.env_key_hash and hmac.compare_digest(hashed, config.env_key_hash):
            return Principal("env-key", "viewer", "key")
        if sessions is None:
            return None
        async with sessions() as session:
            return await AuthRepository(session).key_principal(hashed)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and sessions is not None:
        async with sessions() as session:
            return await AuthRepository(session).session_user(token_hash(cookie), datetime.now(UTC))
    return None


async def require_viewer(request: Request) -> Principal:
    principal = await authenticate(request)
    if principal is None:
        raise HTTPException(
            401,
            detail="credentials required: an API key (X-API-Key) or a dashboard login (/login)",
            headers={"WWW-Authenticate": 'Bearer realm="leadrelay-metrics"'},
        )
    request.state.principal = principal
    return principal


async def require_admin(principal: Annotated[Principal, Depends(require_viewer)]) -> Principal:
    if principal.role != "admin":
        raise HTTPException(403, detail="the admin role is required")
    return principal


Viewer = Annotated[Principal, Depends(require_viewer)]
Admin = Annotated[Principal, Depends(require_admin)]
