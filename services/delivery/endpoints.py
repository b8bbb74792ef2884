"""The deliverer's HTTP API (API key): what failed, what happened to it, replay, and purge."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.operations import (
    DeliveryDetail,
    DeliverySummary,
    list_deliveries,
    purge_dead,
    replay,
    show_delivery,
)
from services.delivery.settings import DeliverySettings

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def require_api_key(request: Request, key: Annotated[str | None, Depends(_key_header)]) -> None:
    settings: DeliverySettings = request.app.state.delivery_settings
    valid = [settings.api_key, *([settings.api_key_next] if settings.api_key_next else [])]
    if not key or not any(hmac.compare_digest(key, v.get_secret_value()) for v in valid):
        raise HTTPException(401, "missing or wrong X-API-Key", headers={"WWW-Authenticate": "APIKey"})


router = APIRouter(
    prefix="/v1/deliveries",
    tags=["deliveries"],
    dependencies=[Depends(require_api_key)],
    responses={401: {"description": "Missing or invalid API key (X-API-Key)"}},
)
Status = Literal["pending", "delivered", "dead"]


class Replayed(BaseModel):
    replayed: int


class Purged(BaseModel):
    purged: int


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


def _wake(request: Request) -> None:
    request.app.state.delivery_wakeup()


@router.get("")
async def list_(
    request: Request,
    status: Status | None = "dead",
    target: Annotated[str | None, Query(max_length=250)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[DeliverySummary]:
    """Deliveries, newest first (by default the dead-lettered ones)."""
    return await list_deliveries(_sessions(request), status=status, target=target, limit=limit, offset=offset)


@router.get("/{delivery_id:int}", responses={404: {"description": "no such delivery"}})
async def show(request: Request, delivery_id: Annotated[int, Path(ge=1, le=2**62)]) -> DeliveryDetail:
    """One delivery with every attempt: when, status code, outcome and reason."""
    detail = await show_delivery(_sessions(request), delivery_id)
    if detail is None:
        raise HTTPException(404, "no such delivery")
    return detail


@router.post("/{delivery_id:int}/retry", responses={404: {"description": "no such dead delivery"}})
async def retry_one(request: Request, delivery_id: Annotated[int, Path(ge=1, le=2**62)]) -> Replayed:
    """Replay one dead delivery now, with a fresh schedule."""
    count = await replay(_sessions(request), request.app.state.delivery_clock.now(), ids=[delivery_id])
    if count == 0:
        raise HTTPException(404, "no dead delivery with this id")
    _wake(request)
    return Replayed(replayed=count)


@router.post("/retry")
async def retry_all(
    request: Request, target: Annotated[str | None, Query(max_length=250)] = None
) -> Replayed:
    """Replay every dead delivery (of one target, if given); their targets are enabled again."""
    count = await replay(_sessions(request), request.app.state.delivery_clock.now(), target=target)
    _wake(request)
    return Replayed(replayed=count)


@router.delete("/{delivery_id:int}", responses={404: {"description": "no such dead delivery"}})
async def purge_one(request: Request, delivery_id: Annotated[int, Path(ge=1, le=2**62)]) -> Purged:
    """Delete one dead delivery and its attempts (only dead ones: the rest purge themselves)."""
    count = await purge_dead(_sessions(request), ids=[delivery_id])
    if count == 0:
        raise HTTPException(404, "no dead delivery with this id")
    return Purged(purged=count)


@router.post("/purge")
async def purge_all(request: Request, target: Annotated[str | None, Query(max_length=250)] = None) -> Purged:
    """Delete every dead delivery (of one target, if given) and their attempts."""
    return Purged(purged=await purge_dead(_sessions(request), target=target))
