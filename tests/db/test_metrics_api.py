"""The metrics HTTP API: every report answers JSON and CSV (?format=csv or Accept: text/csv)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.access import AccessConfig
from services.metrics.auth.secrets import token_hash
from services.metrics.domain.reporting_config import ReportingConfig, SpendEntry
from services.metrics.endpoints import router
from services.metrics.replay import facts_of, project_batch
from services.metrics.reports.scope import ReportConfig
from services.metrics.synthetic import history
from shared.dispatch import decode

pytestmark = pytest.mark.db
API_KEY = "metrics-test-key"


@pytest.fixture
async def client(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    decoded = [
        d for story in history(300, seed=5) for e in story if (d := decode(e.cloud_event().to_bytes()))
    ]
    await project_batch(sessions, facts_of(decoded))
    app = FastAPI()
    app.include_router(router)
    app.state.sessions = sessions
    spend = (SpendEntry(source="hubspot", month="2025-02", amount=1000),)
    app.state.report_config = ReportConfig(ReportingConfig(timezone="Europe/Paris"), spend)
    app.state.access = AccessConfig(env_key_hash=token_hash(API_KEY))  # reports need credentials
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://m", headers={"X-API-Key": API_KEY}
    ) as c:
        yield c


@pytest.mark.parametrize("path", ["/v1/funnel", "/v1/pipeline", "/v1/response-times"])
async def test_every_report_in_json_and_csv(client: httpx.AsyncClient, path: str) -> None:
    params = {"period": "quarter", "quarter": "2025-Q1", "by": "source", "as_of": "2025-06-01T00:00:00Z"}
    body = (await client.get(path, params=params)).json()
    assert body["scope"]["timezone"] == "Europe/Paris"
    assert body["scope"]["from"] == "2024-12-31T23:00:00+00:00"  # Paris midnight
    assert {g["key"] for g in body["groups"]} <= {"hubspot", "typeform", "webinar", "api", "facebook", None}
    by_param = await client.get(path, params={**params, "format": "csv"})
    by_header = await client.get(path, params=params, headers={"Accept": "text/csv"})
    assert by_param.headers["content-type"].startswith("text/csv")
    assert by_param.text == by_header.text and len(by_param.text.splitlines()) > 2


async def test_funnel_keeps_its_first_fields_and_adds_dollars_and_costs(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/funnel", params={"period": "month", "month": "2025-02"})).json()
    assert {"total", "steps", "exits", "queued"} <= set(body)
    assert body["total"] == body["steps"][0]["reached"] > 0
    assert [d["stage"] for d in body["dollars"]] == [s["stage"] for s in body["steps"]]
    assert body["costs"][0]["source"] == "hubspot" and body["costs"][0]["spend"] == 1000


async def test_timeline_and_unknown_lead(client: httpx.AsyncClient) -> None:
    lead = "lead-5-0000001"
    body = (await client.get(f"/v1/leads/{lead}/timeline")).json()
    assert body["entries"][0]["type"] == "lead.captured"
    assert all(e["reasons"] for e in body["entries"] if e["category"] == "decision")
    assert (await client.get("/v1/leads/nobody/timeline")).status_code == 404


async def test_to_before_from_is_an_empty_cohort(client: httpx.AsyncClient) -> None:
    """Schema-valid, so not an error: nothing was captured in an empty window."""
    response = await client.get("/v1/funnel", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"period": "month", "month": "2025-13"},
        {"period": "quarter", "quarter": "Q5"},
        {"tz": "Mars/Olympus"},
        {"tz": ""},  # empty is an error, not the default (schemathesis found a 200)
        {"from": "2025-02-01T00:00:00"},
        {"to": "0.5"},
        {"as_of": "1700000000"},
        {"by": "colour"},
    ],
)
async def test_bad_scopes_are_422(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    for report in ("/v1/funnel", "/v1/response-times"):
        assert (await client.get(report, params=params)).status_code == 422, report


async def test_ytd_ends_today_in_the_reporting_zone(client: httpx.AsyncClient) -> None:
    now = datetime(2025, 3, 10, 12, tzinfo=UTC).isoformat()
    body = (await client.get("/v1/response-times", params={"period": "ytd", "as_of": now})).json()
    assert (body["scope"]["from"], body["scope"]["to"]) == (
        "2024-12-31T23:00:00+00:00",
        "2025-03-10T23:00:00+00:00",
    )
