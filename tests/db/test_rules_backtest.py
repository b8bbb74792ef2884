"""`leadrelay rules backtest` on a real database: a generated history goes through the live router
(profiles and decisions stored by the real repositories), then a candidate rules file is replayed
over a period and its report is compared with outcomes computed here, independently of the router:
plain Python predicates over the generated leads, and the assignments the live router published.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from services.cli import app
from services.router.cli_commands import backtest
from services.router.domain.decision import Router
from services.router.handlers import LeadCapturedHandler
from services.router.tables import outbox
from shared.config import parse_config
from shared.events import CloudEvent, LeadAssigned, LeadCaptured, LeadData, Topics

pytestmark = pytest.mark.db
DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FREE = ("gmail.com", "yahoo.com")
LIVE = """\
qualification:
  version: live-1
  rules:
    - {name: personal, priority: 10, when: "profile.free_mail", outcome: disqualified}
    - {name: big, when: "has(lead.employees) && lead.employees >= 100", outcome: qualified}
profiles: {duplicate_window_s: 3600}
routing:
  teams:
    - name: sales
      policy: round_robin
      reps: [{id: ana, name: Ana}, {id: ben, name: Ben}, {id: cy, name: Cy}]
"""
# The candidate: mid-market counts (50+), France is out, and routing by region, one rep each.
CANDIDATE = """\
qualification:
  version: candidate-2
  rules:
    - {name: personal, priority: 10, when: "profile.free_mail", outcome: disqualified}
    - {name: not-fr, priority: 5, when: 'has(lead.country) && lead.country == "FR"', outcome: disqualified}
    - {name: mid, when: "has(lead.employees) && lead.employees >= 50", outcome: qualified}
routing:
  teams:
    - name: amer
      match: 'has(lead.country) && lead.country in ["US", "CA"]'
      reps: [{id: ana, name: Ana}]
    - name: rest
      reps: [{id: dee, name: Dee}]
"""


def _live_outcome(fields: dict[str, Any]) -> str:
    if fields["email"].split("@")[1] in FREE:
        return "disqualified"
    return "qualified" if fields.get("employees", 0) >= 100 else "nurtured"


def _candidate_outcome(fields: dict[str, Any]) -> str:
    if fields["email"].split("@")[1] in FREE or fields.get("country") == "FR":
        return "disqualified"
    return "qualified" if fields.get("employees", 0) >= 50 else "nurtured"


def _candidate_owner(fields: dict[str, Any]) -> str:
    return "ana" if fields.get("country") in ("US", "CA") else "dee"


def history(seed: int = 7, people: int = 80) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(lead id, event time, canonical fields) in time order. Some people come back days later
    with their company size: only people not qualified the first time, so each is assigned once."""
    rng = random.Random(seed)
    events: list[tuple[str, datetime, dict[str, Any]]] = []
    for n in range(people):
        domain = rng.choice(FREE) if rng.random() < 0.15 else f"co{n}.example"
        fields: dict[str, Any] = {"email": f"p{n}@{domain}", "country": rng.choice(["US", "CA", "FR", "DE"])}
        at = DAY0 + timedelta(days=rng.randrange(8), minutes=rng.randrange(600))
        size = rng.choice([10, 60, 80, 150, 900])
        if rng.random() < 0.2:  # first without the size: nurtured; back two days later with it
            events.append((f"lead-{n}", at, dict(fields)))
            events.append((f"lead-{n}-again", at + timedelta(days=2), {**fields, "employees": size}))
        else:
            events.append((f"lead-{n}", at, {**fields, "employees": size}))
    return sorted(events, key=lambda e: e[1])


async def _run_live(sessions: async_sessionmaker[AsyncSession], events: list[Any]) -> None:
    router = Router.from_config(parse_config(LIVE, "live.yaml"), version="live")
    handler = LeadCapturedHandler(sessions, router, Topics("x."), on_commit=lambda: None)
    batch = []
    for lead_id, at, fields in events:
        payload = LeadCaptured(lead=LeadData.model_validate(fields), source="api", received_at=at)
        event = CloudEvent.wrap(payload, subject=lead_id, source="t", time=at, event_id=f"evt-{lead_id}")
        batch.append((event, payload))
    for start in range(0, len(batch), 10):
        assert all(await handler.handle_batch(batch[start : start + 10]))


async def _published_owners(sessions: async_sessionmaker[AsyncSession], events: list[Any]) -> dict[str, str]:
    """Email → rep, from the lead.assigned events the live router published (not from profiles)."""
    emails = {lead_id: fields["email"] for lead_id, _, fields in events}
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
    owners: dict[str, str] = {}
    for value in values:
        event = CloudEvent.from_bytes(value)
        if event.type == "lead.assigned":
            assert emails[str(event.subject)] not in owners  # each person assigned once
            owners[emails[str(event.subject)]] = event.payload(LeadAssigned).rep_id
    return owners


async def test_backtest_reports_changed_leads_mqls_and_reps_against_an_independent_count(
    sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    events = history()
    await _run_live(sessions, events)
    since, until = DAY0 + timedelta(days=2), DAY0 + timedelta(days=7)
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE, encoding="utf-8")

    # Independently: each person's merged fields, first lead id and last event time.
    people: dict[str, tuple[str, datetime, dict[str, Any]]] = {}
    for lead_id, at, fields in events:
        first = people.get(fields["email"], (lead_id, at, {}))[0]
        people[fields["email"]] = (first, at, {**people.get(fields["email"], ("", at, {}))[2], **fields})
    window = {email: p for email, p in people.items() if since <= p[1] < until}
    published = await _published_owners(sessions, events)
    before = {e: _live_outcome(f) for e, (_, _, f) in window.items()}
    after = {e: _candidate_outcome(f) for e, (_, _, f) in window.items()}
    expected_changed = sorted((window[e][0], before[e], after[e]) for e in window if before[e] != after[e])
    reps_before = Counter(published[e] for e in window if before[e] == "qualified")
    reps_after = Counter(_candidate_owner(window[e][2]) for e in window if after[e] == "qualified")
    assert len(window) > 30 and expected_changed and len(set(published.values())) == 3  # a real test

    result = await backtest(candidate, database_url, since, until)

    assert result.leads == len(window)
    assert sorted(result.changed) == expected_changed
    assert (result.mql_before, result.mql_after) == (
        sum(o == "qualified" for o in before.values()),
        sum(o == "qualified" for o in after.values()),
    )
    assert +result.reps_before == reps_before
    assert +result.reps_after == reps_after

    # The same report through the command line, as a table.
    runner = CliRunner(env={"LEADRELAY_DATABASE_URL": database_url, "COLUMNS": "200"})
    args = ["rules", "backtest", str(candidate), "--since", since.strftime("%Y-%m-%dT%H:%M:%S")]
    args += ["--until", until.strftime("%Y-%m-%dT%H:%M:%S"), "--show", "100"]
    out = await asyncio.to_thread(runner.invoke, app, args)
    assert out.exit_code == 0, out.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.output.splitlines() if "│" in line]
    mql_before, mql_after = result.mql_before, result.mql_after
    assert ["MQLs", str(mql_before), str(mql_after), f"{mql_after - mql_before:+d}"] in rows
    assert ["leads replayed", str(len(window)), str(len(window)), ""] in rows
    for rep in ("ana", "ben", "cy", "dee"):
        b, a = reps_before[rep], reps_after[rep]
        if a or b:
            assert [rep, str(b), str(a), f"{a - b:+d}"] in rows, rep
    for lead_id, b, a in expected_changed:
        assert [lead_id, b, a] in rows


async def test_backtest_of_an_empty_period_reports_nothing(
    sessions: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    await _run_live(sessions, history(people=10))
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE, encoding="utf-8")

    result = await backtest(candidate, database_url, DAY0 - timedelta(days=30), DAY0)

    assert (result.leads, result.mql_before, result.mql_after, result.changed) == (0, 0, 0, [])
