"""The framework floor for bench/ingest_ablation.py: a plain Starlette route inside a FastAPI app, parsing
the same body with the same model and answering 202 (what ingest's hot routes cost before their own work)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route

from services.ingest.schemas import LeadIn


async def post_lead(request: Request) -> JSONResponse:
    lead = LeadIn.model_validate_json(await request.body())
    return JSONResponse({"event_id": str(uuid.uuid4()), "lead_id": lead.lead_id or str(uuid.uuid4())}, 202)


async def readyz(_: Request) -> JSONResponse:
    return JSONResponse({"ready": True})


def create_app() -> FastAPI:
    app = FastAPI(title="bench floor")
    app.router.routes[:0] = [Route("/v1/leads", post_lead, methods=["POST"]), Route("/readyz", readyz)]
    return app
