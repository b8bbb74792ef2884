"""Access to the metrics API and dashboard: keys (hashed, revocable), logins with roles, masking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.auth.access import AccessConfig
from services.metrics.auth.endpoints import router as auth_router
from services.metrics.auth.secrets import hash_password, token_hash, verify_password
from services.metrics.auth.service import create_key, ensure_admin, revoke_key, set_user
from services.metrics.dashboard.endpoints import router as dashboard_router
from services.metrics.dashboard.live import apply_live, wants
from services.metrics.endpoints import router as reports_router
from services.metrics.projection import Projector
from services.metrics.tables import api_keys, users
from shared.dispatch import decode
from shared.events import CloudEvent, Event, LeadCaptured, LeadData, SlaStarted, SlaWarning

pytestmark = pytest.mark.db
ENV_KEY = "env-key-for-tests"
NOW = datetime.now(UTC)


def _event(lead_id: str, payload: Event, n: int) -> CloudEvent:
    return CloudEvent.wrap(payload, subject=lead_id, source="test", time=NOW, event_id=f"evt-{lead_id}-{n}")


@pytest.fixture
async def app(sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    app = FastAPI()
    for router in (auth_router, dashboard_router, reports_router):
        app.include_router(router)
    app.state.sessions = sessions
    app.state.access = AccessConfig(env_key_hash=token_hash(ENV_KEY))
    project = Projector(sessions, live=apply_live, live_wants=wants)
    lead = LeadData(
        email="ada.novak@northwind.example", first_name="Ada", last_name="Novak", phone="+1 555 0100"
    )
    started = SlaStarted(
        clock_id="c1",
        policy="first-touch",
        target="first_touch",
        team="emea",
        rep_id="rep-a",
        started_at=NOW,
        target_seconds=3600,
        warning_at=NOW + timedelta(minutes=45),
        breach_at=NOW + timedelta(hours=1),
        timezone="UTC",
        system_delay_seconds=2,
    )
    warned = SlaWarning(
        clock_id="c1",
        policy="first-touch",
        target="first_touch",
        team="emea",
        rep_id="rep-a",
        breach_at=NOW + timedelta(minutes=10),
        due_at=NOW,
        fired_at=NOW,
    )
    captured = LeadCaptured(lead=lead, source="api", received_at=NOW)
    for n, payload in enumerate((captured, started, warned, started)):  # a late `started` never reopens
        event = _event("lead-1", payload, n)
        decoded = decode(event.to_bytes())
        assert decoded is not None
        await project(decoded[0], decoded[1])
    await set_user(sessions, "olga", "viewer-pass-1", "viewer")
    await set_user(sessions, "root", "admin-pass-1", "admin")
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        yield c


async def _login(client: httpx.AsyncClient, user: str, password: str) -> httpx.Response:
    return await client.post("/login", data={"username": user, "password": password})


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("s3cret-pass", first) and not verify_password("wrong", first)
    assert not verify_password("s3cret-pass", "garbage")


@pytest.mark.parametrize("path", ["/v1/funnel", "/v1/response-times", "/v1/pipeline", "/v1/dashboard/board"])
async def test_every_report_refuses_anonymous_and_bad_keys(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers={"X-API-Key": "nope"})).status_code == 401
    assert (await client.get(path, headers={"X-API-Key": ENV_KEY})).status_code == 200
    assert (await client.get(path, headers={"Authorization": f"Bearer {ENV_KEY}"})).status_code == 200


async def test_page_redirects_to_login_then_renders_for_a_session(client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).headers["location"] == "/login"
    assert (await _login(client, "olga", "wrong")).headers["location"].startswith("/login?error")
    answer = await _login(client, "olga", "viewer-pass-1")
    assert answer.status_code == 303 and "httponly" in answer.headers["set-cookie"].lower()
    page = await client.get("/")
    assert page.status_code == 200 and "SLA board" in page.text
    assert "ada.novak@northwind.example" not in page.text and "a•••@northwind.example" in page.text
    assert (await client.get("/v1/me")).json() == {"name": "olga", "role": "viewer", "kind": "user"}
    await client.post("/logout")
    assert (await client.get("/v1/me")).status_code == 401


async def test_viewer_sees_masked_contacts_in_json_and_csv_admin_sees_them(client: httpx.AsyncClient) -> None:
    await _login(client, "olga", "viewer-pass-1")
    board = (await client.get("/v1/dashboard/board")).json()
    [clock] = board["clocks"]
    assert clock["status"] == "warned" and clock["due_soon"] and clock["email"] == "a•••@northwind.example"
    assert clock["name"] == "A. N." and board["counts"]["due_soon"] == 1
    csv = (await client.get("/v1/dashboard/board", params={"format": "csv"})).text
    assert "northwind" in csv and "ada.novak" not in csv
    lead = (await client.get("/v1/dashboard/leads/lead-1")).json()
    assert lead["contact"]["phone"] == "•••00" and lead["timeline"]["entries"]
    await client.post("/logout")
    await _login(client, "root", "admin-pass-1")
    lead = (await client.get("/v1/dashboard/leads/lead-1")).json()
    assert lead["contact"]["email"] == "ada.novak@northwind.example"


async def test_keys_are_stored_hashed_and_revocable(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    key_id, key = await create_key(sessions, "bi-tool", "viewer")
    async with sessions() as session:
        stored = (await session.execute(select(api_keys.c.key_hash))).scalars().all()
        hashes = (await session.execute(select(users.c.password_hash))).scalars().all()
    assert key not in stored and token_hash(key) in stored
    assert not any("pass" in h for h in hashes)
    assert (await client.get("/v1/funnel", headers={"X-API-Key": key})).status_code == 200
    assert await revoke_key(sessions, key_id)
    assert (await client.get("/v1/funnel", headers={"X-API-Key": key})).status_code == 401


async def test_admin_api_needs_the_admin_role(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/v1/admin/keys", json={"name": "x"}, headers={"X-API-Key": ENV_KEY})
    ).status_code == 403
    await _login(client, "root", "admin-pass-1")
    made = (await client.post("/v1/admin/keys", json={"name": "crm", "role": "viewer"})).json()
    listed = (await client.get("/v1/admin/keys")).json()
    assert made["key"] not in str(listed) and made["key_id"] in str(listed)
    assert (await client.delete(f"/v1/admin/keys/{made['key_id']}")).status_code == 204
    assert (await client.get("/v1/me", headers={"X-API-Key": made["key"]})).status_code == 401


async def test_first_admin_is_created_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await ensure_admin(sessions, "admin", "changeme")
    assert not await ensure_admin(sessions, "admin", "other")  # an admin exists: nothing changes
