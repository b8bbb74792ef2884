"""Baseline: a bare FastAPI app that validates the same lead body with pydantic and answers 202.

Same request model as the real ingest (`LeadIn`) and a same-shaped answer, but no API key
check, no Kafka and no database: what remains of the ingest's cost is its durable write.
Run with `python -m uvicorn bench.serve_baseline:create_app --factory`.
"""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.ingest.schemas import LeadIn


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline")

    @app.get("/readyz")
    async def readyz() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/v1/leads", status_code=202)
    async def post_lead(lead: LeadIn) -> JSONResponse:
        lead_id = lead.lead_id or str(uuid.uuid4())
        return JSONResponse({"event_id": str(uuid.uuid4()), "lead_id": lead_id}, status_code=202)

    return app
