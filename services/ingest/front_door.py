"""The ingest app's front door: its write endpoints served straight off the ASGI scope.

`POST /v1/leads`, `POST /v1/activities` and `POST /v1/sources/{source}/webhooks` are the only
high-volume routes, and each is a function of the `Request` that returns a `Response`. Through the
FastAPI app a request first crosses eight ASGI layers (error, telemetry, metrics, exception and
body-limit middleware, the router's scan of ~30 routes, FastAPI's exit stack, the route wrapper),
each a coroutine frame and a wrapped `send`; profiled under `bench/ingest.py` that stack was about
a fifth of a lead's CPU. Here the app looks the endpoint up by path first and, when it is one of
these, calls it directly with the same `Request`, maps its exception through the app's own
exception handlers (so every answer is the one the routed path gives: 401, 413, 415, 422, 429,
503), and records the same per-source status and latency metrics the `RequestMetrics` middleware
does. Everything else (and any deployment under a root path) goes through FastAPI unchanged; the
routed endpoints stay, for the OpenAPI document and that fallback.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from services.ingest.observability import LATENCY, REQUESTS, LabelCache

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Any]

_WEBHOOKS_PREFIX, _WEBHOOKS_SUFFIX = "/v1/sources/", "/webhooks"


_ANSWERS = LabelCache(REQUESTS)


class IngestApp(FastAPI):
    """FastAPI, with the write endpoints dispatched before the middleware stack (module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front_routes: dict[str, Endpoint] = {}
        self.webhook_endpoint: Endpoint | None = None
        self.known_sources: frozenset[str] = frozenset()
        self._latency: dict[str, Any] = {}

    def serve_at_front_door(
        self, routes: Mapping[str, Endpoint], webhook: Endpoint, known_sources: frozenset[str]
    ) -> None:
        """POST `routes` (exact paths) and `POST /v1/sources/{source}/webhooks` by `webhook`."""
        self.front_routes = dict(routes)
        self.webhook_endpoint = webhook
        self.known_sources = known_sources

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path: str = scope["path"]
            endpoint = self.front_routes.get(path)
            if endpoint is not None:
                await self._serve(endpoint, "api", scope, receive, send)
                return
            source = _webhook_source(path)
            if source is not None and self.webhook_endpoint is not None:
                scope["path_params"] = {"source": source}
                label = source if source in self.known_sources else "unknown"
                await self._serve(self.webhook_endpoint, label, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _serve(
        self, endpoint: Endpoint, source: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started, status = time.perf_counter(), 500
        scope["app"] = self  # what `request.app` reads, as Starlette sets it
        request = Request(scope, receive)
        try:
            try:
                response = await endpoint(request)
            except ClientDisconnect:
                status = 499  # nobody to answer: the client went away mid-body
                return
            except Exception as exc:
                handler = self._handler_for(exc)
                if handler is None:
                    raise  # uvicorn answers 500 and logs it, as ServerErrorMiddleware would
                response = await _call(handler, request, exc)
            status = response.status_code
            await response(scope, receive, send)
        finally:
            _ANSWERS.inc(source, str(status))
            latency = self._latency.get(source)
            if latency is None:
                latency = self._latency[source] = LATENCY.labels(source)
            latency.observe(time.perf_counter() - started)

    def _handler_for(self, exc: Exception) -> Handler | None:
        handlers = self.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                handler: Handler = handlers[cls]
                return handler
        return None


def _webhook_source(path: str) -> str | None:
    """`NAME` of `/v1/sources/NAME/webhooks`, as the routed path's `{source}` would match it."""
    if not (path.startswith(_WEBHOOKS_PREFIX) and path.endswith(_WEBHOOKS_SUFFIX)):
        return None
    name = path[len(_WEBHOOKS_PREFIX) : -len(_WEBHOOKS_SUFFIX)]
    return name if name and "/" not in name else None


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)  # the app's handlers are async; a plain one answers inline
    if isinstance(answer, Awaitable):
        answer = await answer
    assert isinstance(answer, Response)
    return answer
