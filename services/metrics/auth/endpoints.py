"""Log in / out (HTML form, session cookie) and the admin API for integration keys."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth import service
from services.metrics.auth.access import SESSION_COOKIE, Admin, Viewer, access_config
from services.metrics.auth.principal import Role
from services.metrics.auth.repository import AuthRepository

router = APIRouter(
    responses={
        400: {"description": "A body that is not JSON"},
        401: {"description": "Sign in, or send an API key (X-API-Key)"},
        403: {"description": "Admins only"},
    }
)

_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>LeadRelay · sign in</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/dashboard.css"></head>
<body class="login"><form method="post" action="/login" class="card login-card">
<h1>LeadRelay</h1><p class="muted">Ops dashboard: sign in</p>{error}
<label>User <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>"""


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return factory


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(error: str | None = None) -> HTMLResponse:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(_LOGIN_PAGE.format(error=message))


async def _form(request: Request) -> dict[str, str]:
    """The login form (application/x-www-form-urlencoded), read with the standard library: the two
    fields do not warrant python-multipart. Bounded, so a huge body is refused unread."""
    if int(request.headers.get("content-length") or 0) > 4096:
        raise HTTPException(413, detail="login form too large")
    body = (await request.body())[:4096].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, max_num_fields=10).items()}


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> RedirectResponse:
    config = access_config(request)
    form = await _form(request)
    username, password = form.get("username", "")[:100], form.get("password", "")[:200]
    token = await service.login(_sessions(request), username, password, config.session_hours)
    if token is None:
        return RedirectResponse("/login?error=Wrong+user+or+password", status_code=303)
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_hours * 3600),
        httponly=True,  # scripts never read it
        samesite="strict",  # no cross-site request carries it (CSRF)
        secure=config.secure_cookies,
    )
    return answer


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.logout(_sessions(request), token)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


class Me(BaseModel):
    name: str
    role: str
    kind: str


@router.get("/v1/me", response_model=Me)
async def me(principal: Viewer) -> Me:
    """Who these credentials are, and their role."""
    return Me(name=principal.name, role=principal.role, kind=principal.kind)


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role = "viewer"


@router.get("/v1/admin/keys")
async def list_keys(request: Request, _: Admin) -> list[dict[str, Any]]:
    """Integration keys (never the keys themselves: only their hashes are stored)."""
    async with _sessions(request)() as session:
        rows = await AuthRepository(session).list_keys()
    return [
        {
            "key_id": r.key_id,
            "name": r.name,
            "role": r.role,
            "created_at": r.created_at,
            "revoked_at": r.revoked_at,
        }
        for r in rows
    ]


@router.post("/v1/admin/keys", status_code=201)
async def create_key(request: Request, body: KeyIn, _: Admin) -> dict[str, str]:
    """A new key, shown in this answer only."""
    key_id, key = await service.create_key(_sessions(request), body.name, body.role)
    return {"key_id": key_id, "key": key, "role": body.role}


@router.delete("/v1/admin/keys/{key_id}", status_code=204)
async def revoke_key(request: Request, key_id: str, _: Admin) -> None:
    if not await service.revoke_key(_sessions(request), key_id):
        raise HTTPException(404, detail="no active key with this id")
