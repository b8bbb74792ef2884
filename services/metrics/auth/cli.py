"""`leadrelay users …` and `leadrelay keys …`: dashboard logins and integration keys.

They write the metrics database (LEADRELAY_METRICS_DATABASE_URL or LEADRELAY_DATABASE_URL), migrated
first. Heavy imports stay inside the commands so `leadrelay --help` stays fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from services.metrics.auth.repository import KeyRow, UserRow

users_app = typer.Typer(help="Dashboard logins (viewer or admin).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for integrations reading the metrics API.", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")
RoleOption = Annotated[Literal["viewer", "admin"], typer.Option(help="viewer: personal data masked")]


def _run(work: Callable[..., Awaitable[T]]) -> T:
    from services.metrics.settings import MetricsSettings
    from shared.db import create_engine, create_session_factory
    from shared.db.migrate import migrate_service

    async def main() -> T:
        engine = create_engine(MetricsSettings().effective_database_url)
        try:
            await migrate_service(engine, "metrics")
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


@users_app.command("add")
def users_add(
    username: str,
    role: RoleOption = "viewer",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a login, or reset its password and role."""
    from services.metrics.auth.service import set_user

    if len(password) < 8:
        console.print("[red]error:[/] the password needs at least 8 characters")
        raise typer.Exit(1)
    created = _run(lambda s: set_user(s, username, password, role))
    console.print(f"{'created' if created else 'updated'} {username} ({role})")


@users_app.command("list")
def users_list() -> None:
    """Every login, its role and whether it is disabled."""
    from services.metrics.auth.repository import AuthRepository

    async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[UserRow]:
        async with sessions() as session:
            return await AuthRepository(session).list_users()

    table = Table("user", "role", "created", "disabled")
    for u in _run(rows):
        table.add_row(
            u.username,
            u.role,
            f"{u.created_at:%Y-%m-%d}",
            f"{u.disabled_at:%Y-%m-%d}" if u.disabled_at else "",
        )
    Console().print(table)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a login and end its sessions."""
    from services.metrics.auth.service import disable_user

    if not _run(lambda s: disable_user(s, username)):
        console.print(f"[red]error:[/] no enabled user {username!r}")
        raise typer.Exit(1)
    console.print(f"disabled {username}")


@keys_app.command("create")
def keys_create(name: str, role: RoleOption = "viewer") -> None:
    """Make a key; it is printed once (only its hash is stored)."""
    from services.metrics.auth.service import create_key

    key_id, key = _run(lambda s: create_key(s, name, role))
    console.print(f"key {key_id} for {name} ({role}); send it as X-API-Key. It is not shown again:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key's id, name, role and revocation (never the key)."""
    from services.metrics.auth.repository import AuthRepository

    async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[KeyRow]:
        async with sessions() as session:
            return await AuthRepository(session).list_keys()

    table = Table("key id", "name", "role", "created", "revoked")
    for k in _run(rows):
        table.add_row(
            k.key_id,
            k.name,
            k.role,
            f"{k.created_at:%Y-%m-%d}",
            f"{k.revoked_at:%Y-%m-%d}" if k.revoked_at else "",
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from services.metrics.auth.service import revoke_key

    if not _run(lambda s: revoke_key(s, key_id)):
        console.print(f"[red]error:[/] no active key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")
