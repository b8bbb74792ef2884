"""The lead handler on real databases: batches, profiles and duplicates, durable fair counters,
caps, two handlers racing (row locks on PostgreSQL), redelivery, hot reload."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.router.domain.decision import Router
from services.router.handlers import LeadCapturedHandler
from services.router.reload import ConfigReloader
from services.router.tables import decisions, outbox, profiles, rep_counters
from shared.config import parse_config
from shared.events import CloudEvent, LeadAssigned, LeadCaptured, LeadData, Topics

pytestmark = pytest.mark.db
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CONFIG = """\
qualification:
  version: q1
  rules:
    - {name: all, when: "true", outcome: qualified}
profiles: {duplicate_window_s: 3600}
accounts: [{name: Acme, domains: [acme.example], owner: cy}]
routing:
  teams:
    - name: owners
      policy: account_owner
      match: "has(account.name)"
      reps: [{id: cy, name: Cy}]
    - name: sales
      policy: weighted
      reps:
        - {id: ana, name: Ana, weight: 3}
        - {id: ben, name: Ben, weight: 1, max_open: 5}
        - {id: dee, name: Dee, weight: 0}
"""


def handler(sessions: async_sessionmaker[AsyncSession], text: str = CONFIG) -> LeadCapturedHandler:
    router = Router.from_config(parse_config(text, "t.yaml"), version="v-test")
    return LeadCapturedHandler(sessions, router, Topics("x."), on_commit=lambda: None)


def item(n: int, email: str | None = None, at: datetime = T0) -> tuple[CloudEvent, LeadCaptured]:
    payload = LeadCaptured(lead=LeadData(email=email or f"p{n}@co{n}.example"), source="api", received_at=at)
    return CloudEvent.wrap(payload, subject=f"lead-{n}", source="t", time=at, event_id=f"evt-{n}"), payload


async def assigned(sessions: async_sessionmaker[AsyncSession]) -> list[LeadAssigned]:
    async with sessions() as s:
        values = (await s.execute(select(outbox.c.value).order_by(outbox.c.id))).scalars().all()
    events = [CloudEvent.from_bytes(v) for v in values]
    return [e.payload(LeadAssigned) for e in events if e.type == "lead.assigned"]


async def test_a_batch_routes_in_order_and_a_duplicate_person_is_enriched_not_rerouted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    h = handler(sessions)
    batch = [
        item(1),
        item(2, "Ada+x@Acme.example"),
        item(3, "ada@acme.example", T0 + timedelta(minutes=5)),
        item(4),
    ]

    assert await h.handle_batch(batch) == [True, True, True, True]
    assert await h.handle_batch(batch) == [False] * 4  # redelivered: nothing new

    sent = await assigned(sessions)
    assert [(a.team, a.rep_id) for a in sent] == [("sales", "ana"), ("owners", "cy"), ("sales", "ana")]
    record = sent[1].decision
    assert record is not None
    assert record["account"] == {"name": "Acme", "owner": "cy", "by": "domain"}
    assert record["routing"]["owner"] == "cy" and record["config_version"] == "v-test"
    assert sent[0].decision["routing"]["skipped"] == [{"rep": "dee", "why": "weight_zero"}]  # type: ignore[index]
    async with sessions() as s:
        kinds = (await s.execute(select(decisions.c.lead_id, decisions.c.kind, decisions.c.outcome))).all()
        ada = (
            await s.execute(select(profiles).where(profiles.c.profile_key == "email:ada@acme.example"))
        ).one()
    assert ("lead-3", "profile", "duplicate") in [tuple(k) for k in kinds]
    assert (ada.lead_id, ada.submissions, ada.owner, ada.account) == ("lead-2", 2, "cy", "Acme")


async def test_weighted_fairness_and_caps_survive_restarts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for start in range(0, 16, 4):  # a new handler (a restart) every four leads
        await handler(sessions).handle_batch([item(n) for n in range(start, start + 4)])

    reps = Counter(a.rep_id for a in await assigned(sessions))
    assert reps == {"ana": 12, "ben": 4}  # exactly 3:1
    async with sessions() as s:
        rows = dict((await s.execute(select(rep_counters.c.rep_id, rep_counters.c.open_leads))).all())
    assert rows == {"ana": 12, "ben": 4}
    await handler(sessions).handle_batch([item(n) for n in range(16, 24)])
    reps = Counter(a.rep_id for a in await assigned(sessions))
    assert reps["ben"] == 5  # max_open 5: capped, the rest went to ana


async def test_two_handlers_racing_route_each_lead_once_and_stay_fair(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two = handler(sessions), handler(sessions)
    items = [item(n) for n in range(40)]
    # Both get every lead (a rebalance redelivers), in batches of four, interleaved.
    await asyncio.gather(*(h.handle_batch(items[i : i + 4]) for i in range(0, 40, 4) for h in (one, two)))

    sent = await assigned(sessions)
    assert sorted(a.decision_id for a in sent) == sorted({a.decision_id for a in sent})
    assert len(sent) == 40
    reps = Counter(a.rep_id for a in sent)
    assert reps["ben"] == 5 and reps["ana"] == 35  # the cap held under the race


async def test_reload_refuses_an_invalid_file_and_keeps_the_running_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    applied: list[str] = []
    reloader = ConfigReloader(path, lambda config, router: applied.append(config.qualification.version))

    path.write_text(CONFIG.replace('when: "true"', 'when: "true &&"'), encoding="utf-8")
    assert reloader.reload() is False
    assert reloader.refused is not None and "c.yaml:4" in reloader.refused
    path.write_text(CONFIG.replace("version: q1", "version: q2"), encoding="utf-8")
    assert reloader.reload() is True
    assert applied == ["q2"] and reloader.refused is None
