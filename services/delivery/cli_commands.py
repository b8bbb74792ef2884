"""`leadrelay deliveries list|show|retry|purge`: outbound failures, replays and purges, straight on
the database (the running deliverer picks replays up on its next look at the queue, within its
poll interval)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

T = TypeVar("T")
deliveries_app = typer.Typer(
    help="Outbound deliveries: list failures, show attempts, replay, purge.", no_args_is_help=True
)
out = Console()


def _run(work: Callable[..., Awaitable[T]], *args: object, **kwargs: object) -> T:
    from services.delivery.settings import DeliverySettings
    from shared.db import create_engine, create_session_factory
    from shared.db.migrate import migrate_service

    async def main() -> T:
        engine = create_engine(DeliverySettings().effective_database_url)
        try:
            await migrate_service(engine, "delivery")
            return await work(create_session_factory(engine), *args, **kwargs)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@deliveries_app.command("list")
def list_command(
    status: Annotated[str, typer.Option(help="dead, pending, delivered or all")] = "dead",
    target: Annotated[str | None, typer.Option(help="e.g. webhook:crm, slack:ana, crm:hubspot")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Deliveries, newest first (by default those dead-lettered)."""
    from services.delivery.operations import list_deliveries

    rows = _run(list_deliveries, status=None if status == "all" else status, target=target, limit=limit)
    table = Table(title=f"deliveries ({status})")
    for column in ("id", "target", "event", "lead", "status", "tries", "last"):
        table.add_column(column)
    for r in rows:
        last = f"{r.last_status or ''} {r.last_error or ''}".strip()
        table.add_row(
            str(r.id), r.target, r.event_type, escape(r.lead_id), r.status, str(r.attempts), escape(last[:80])
        )
    out.print(table)


@deliveries_app.command("show")
def show_command(delivery_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """One delivery and every attempt: when, status code, outcome, reason."""
    from services.delivery.operations import show_delivery

    detail = _run(show_delivery, delivery_id)
    if detail is None:
        out.print(f"[red]no delivery {delivery_id}[/]")
        raise typer.Exit(1)
    out.print(
        f"[bold]{detail.id}[/] {detail.target} {detail.event_type} lead {escape(detail.lead_id)}\n"
        f"  webhook-id {detail.webhook_id}   status {detail.status}   attempts {detail.attempts}"
    )
    table = Table()
    for column in ("#", "started", "ms", "status", "outcome", "reason"):
        table.add_column(column)
    for a in detail.attempt_log:
        table.add_row(
            str(a.attempt), a.started_at.isoformat(timespec="seconds"), f"{a.duration_ms:.0f}",
            str(a.status_code or "—"), a.outcome, escape(a.reason),
        )  # fmt: skip
    out.print(table)


@deliveries_app.command("retry")
def retry_command(
    delivery_id: Annotated[int | None, typer.Argument(help="one delivery; omit with --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead delivery")] = False,
    target: Annotated[str | None, typer.Option(help="with --all: only this target")] = None,
) -> None:
    """Replay dead deliveries now, with a fresh schedule (their targets are enabled again)."""
    from services.delivery.clock import SystemClock
    from services.delivery.operations import replay

    if (delivery_id is None) == (not all_):
        out.print("[red]give a delivery id, or --all[/]")
        raise typer.Exit(2)
    now = SystemClock().now()
    ids = None if all_ else [delivery_id] if delivery_id is not None else None
    count = _run(replay, now, ids=ids, target=target)
    out.print(f"replayed {count} deliver{'y' if count == 1 else 'ies'}")
    if count == 0 and not all_:
        raise typer.Exit(1)


@deliveries_app.command("purge")
def purge_command(
    delivery_id: Annotated[int | None, typer.Argument(help="one dead delivery; omit with --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead delivery")] = False,
    target: Annotated[str | None, typer.Option(help="with --all: only this target")] = None,
) -> None:
    """Delete dead deliveries and their attempts (delivered ones go by themselves after the
    retention, LEADRELAY_DELIVERY_RETENTION_DAYS)."""
    from services.delivery.operations import purge_dead

    if (delivery_id is None) == (not all_):
        out.print("[red]give a delivery id, or --all[/]")
        raise typer.Exit(2)
    ids = None if all_ else [delivery_id] if delivery_id is not None else None
    count = _run(purge_dead, ids=ids, target=target)
    out.print(f"purged {count} dead deliver{'y' if count == 1 else 'ies'}")
    if count == 0 and not all_:
        raise typer.Exit(1)
