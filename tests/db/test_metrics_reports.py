"""Every report against an independent computation: plain Python over the same raw events.

A generated year of 10,000 leads (sources, campaigns, product lines, teams, reps, values,
rejections, queues, reassignments, late, out-of-order and repeated deliveries) is projected
through the metrics write path; every figure is then recomputed here from the raw events alone
(no metrics code) and must match. SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.domain.periods import window
from services.metrics.domain.reporting_config import ReportingConfig, SpendEntry
from services.metrics.funnel.service import funnel_report
from services.metrics.pipeline.service import pipeline_report
from services.metrics.replay import facts_of, project_batch, replay
from services.metrics.reports.scope import ReportConfig, Scope
from services.metrics.response_times.service import response_times_report
from services.metrics.synthetic import RawEvent, deliveries, history
from shared.dispatch import decode

pytestmark = pytest.mark.db

LEADS = 10_000
TZ = "America/New_York"
AS_OF = datetime(2026, 1, 15, tzinfo=UTC)
PATH = ("captured", "reviewed", "mql", "assigned", "sal", "sql", "won")
# Written out again here on purpose: the test's own reading of the stage model.
STAGES = {
    "lead.captured": ("captured",),
    "lead.qualified": ("reviewed", "mql"),
    "lead.disqualified": ("reviewed", "disqualified"),
    "lead.nurtured": ("reviewed", "nurturing"),
    "lead.assigned": ("assigned",),
    "lead.reassigned": ("assigned",),
    "lead.queued": ("queued",),
    "lead.recycled": ("nurturing",),
    "activity.accepted": ("sal",),
    "activity.rejected": ("rejected",),
    "activity.opportunity_created": ("sql",),
    "activity.won": ("won",),
    "activity.lost": ("lost",),
}
SPEND = (
    SpendEntry(source="hubspot", month="2025-03", amount=9000),
    SpendEntry(source="api", month="2025-03", amount=3100),
)
CONFIG = ReportConfig(ReportingConfig(timezone=TZ, min_deals_to_estimate=20), SPEND)


def _kind(e: RawEvent) -> str:
    return f"activity.{e.data['kind']}" if e.type == "activity.recorded" else e.type


class Truth:
    """Per-lead facts, computed from raw events only."""

    def __init__(self, stories: list[list[RawEvent]]) -> None:
        self.leads: list[dict[str, Any]] = []
        for events in stories:
            lead: dict[str, Any] = {"stages": set(), "first": {}}
            for e in sorted(events, key=lambda e: e.time):
                kind = _kind(e)
                for stage in STAGES.get(kind, ()):
                    lead["stages"].add(stage)
                    lead["first"].setdefault(stage, e.time)
                if kind == "lead.captured":
                    lead |= {"captured": e.time, "source": e.data["source"]}
                    lead |= {
                        "campaign": e.data["lead"]["campaign"],
                        "product_line": e.data["lead"]["product_line"],
                    }
                if kind == "lead.queued":  # a queued lead is its team's until someone owns it
                    lead.setdefault("team", e.data["team"])
                if kind in ("lead.assigned", "lead.reassigned"):
                    lead |= {"team": e.data["team"], "rep": e.data["rep_id"]}
                if kind == "activity.first_touch":
                    lead.setdefault("touch", e.time)
                if kind == "activity.opportunity_created":
                    lead |= {
                        "value": e.data.get("value"),
                        "close": date.fromisoformat(e.data["expected_close"]),
                    }
                if kind == "activity.won":
                    lead["won_value"] = e.data.get("value")
                if kind in ("sla.met", "sla.breached"):
                    lead["sla"] = "met" if kind == "sla.met" else "breached"
            reached = [PATH.index(s) for s in lead["stages"] if s in PATH]
            lead["furthest"] = max(reached)
            won_value = lead.get("won_value")
            lead["deal"] = won_value if won_value is not None else lead.get("value")
            self.leads.append(lead)

    def cohort(self, start: datetime | None, end: datetime | None, **filters: str) -> list[dict[str, Any]]:
        return [
            x
            for x in self.leads
            if (start is None or x["captured"] >= start)
            and (end is None or x["captured"] < end)
            and all(x.get(k) == v for k, v in filters.items())
        ]


def reached(leads: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for x in leads if x["furthest"] >= i) for i, s in enumerate(PATH)}


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


@pytest.fixture(scope="module")
def stories() -> list[list[RawEvent]]:
    return history(LEADS, seed=42)


async def _project(sessions: async_sessionmaker[AsyncSession], stories: list[list[RawEvent]]) -> None:
    decoded = []
    for e in deliveries(stories, seed=42):
        found = decode(e.cloud_event().to_bytes())
        assert found is not None
        decoded.append(found)
    facts = facts_of(decoded)
    for start in range(0, len(facts), 5000):  # out-of-order and repeated events cross batches
        await project_batch(sessions, facts[start : start + 5000])


def scope(period: str = "all", by: Any = None, **kw: Any) -> Scope:
    filters = {k: kw.pop(k) for k in list(kw) if k in ("source", "campaign", "product_line", "team", "rep")}
    return Scope(window(period, TZ, now=AS_OF, **kw), filters, by, AS_OF)  # type: ignore[arg-type]


async def test_a_year_of_leads_every_report_matches_an_independent_computation(
    sessions: async_sessionmaker[AsyncSession], stories: list[list[RawEvent]]
) -> None:
    truth = Truth(stories)
    await _project(sessions, stories)
    async with sessions() as s:
        await _check_funnel(s, truth)
        await _check_response_times(s, truth)
        await _check_pipeline(s, truth)
        before = (await funnel_report(s, scope(), CONFIG)).model_dump()
    await replay(sessions)
    async with sessions() as s:
        assert (await funnel_report(s, scope(), CONFIG)).model_dump() == before  # replay: same numbers


async def _check_funnel(s: AsyncSession, truth: Truth) -> None:
    everyone = await funnel_report(s, scope(), CONFIG)
    assert everyone.total == LEADS
    assert {x.stage: x.reached for x in everyone.steps} == reached(truth.leads)
    exits = {
        k: sum(1 for x in truth.leads if k in x["stages"])
        for k in ("disqualified", "nurturing", "rejected", "lost")
    }
    assert everyone.exits == exits
    assert everyone.queued == sum(1 for x in truth.leads if "queued" in x["stages"] and x["furthest"] < 3)
    # A month cohort in New York time: boundaries at local midnight, not UTC.
    tz = ZoneInfo(TZ)
    lo, hi = datetime(2025, 3, 1, tzinfo=tz), datetime(2025, 4, 1, tzinfo=tz)
    march = await funnel_report(s, scope("month", month="2025-03"), CONFIG)
    cohort = truth.cohort(lo, hi)
    assert {x.stage: x.reached for x in march.steps} == reached(cohort)
    steps = {x.stage: x for x in march.steps}
    r = reached(cohort)
    assert steps["sal"].conversion_from_previous == round(r["sal"] / r["assigned"], 4)
    # Dollar funnel: tabulated = known values of leads that reached the stage; estimated = the rest x average.
    known = [x["deal"] for x in cohort if x["deal"] is not None]
    average = sum(known) / len(known)
    for d in march.dollars:
        at = [x for x in cohort if x["furthest"] >= PATH.index(d.stage)]
        values = [x["deal"] for x in at if x["deal"] is not None]
        assert d.tabulated_value == pytest.approx(sum(values), abs=0.05)
        assert d.estimated_value == pytest.approx((len(at) - len(values)) * average, abs=0.05)
    # Costs: March spend over March's reached counts, per source.
    costs = {c.source: c for c in march.costs}
    hub = reached([x for x in cohort if x["source"] == "hubspot"])
    assert costs["hubspot"].per_mql == round(9000 / hub["mql"], 2)
    assert costs["hubspot"].per_won == (round(9000 / hub["won"], 2) if hub["won"] else None)
    # Quarter, breakdown by source: one pipeline per source.
    q = await funnel_report(s, scope("quarter", quarter="2025-Q2", by="source"), CONFIG)
    q_lo, q_hi = datetime(2025, 4, 1, tzinfo=tz), datetime(2025, 7, 1, tzinfo=tz)
    for g in q.groups:
        assert {x.stage: x.reached for x in g.steps} == reached(truth.cohort(q_lo, q_hi, source=g.key))
    # Filters: product line and team.
    f = await funnel_report(s, scope(product_line="analytics", team="inbound-emea"), CONFIG)
    expected = reached(truth.cohort(None, None, product_line="analytics", team="inbound-emea"))
    assert {x.stage: x.reached for x in f.steps} == expected


async def _check_response_times(s: AsyncSession, truth: Truth) -> None:
    report = await response_times_report(s, scope(by="rep"), CONFIG)
    touched = [x for x in truth.leads if "touch" in x]
    speeds = [minutes(x["touch"], x["captured"]) for x in touched]
    for q, got in (
        (50, report.speed_to_lead.p50),
        (90, report.speed_to_lead.p90),
        (99, report.speed_to_lead.p99),
    ):
        assert got == pytest.approx(pct(speeds, q), abs=1e-3)
    assigned = [x for x in truth.leads if "assigned" in x["first"]]
    system = [minutes(x["first"]["assigned"], x["captured"]) for x in assigned]
    assert report.system_delay.p90 == pytest.approx(pct(system, 90), abs=1e-3)
    rep = [minutes(x["touch"], x["first"]["assigned"]) for x in touched]
    assert report.rep_delay.p50 == pytest.approx(pct(rep, 50), abs=1e-3)
    assert report.bands == {
        "0-5m": sum(1 for v in speeds if v < 5),
        "5-15m": sum(1 for v in speeds if 5 <= v < 15),
        "15-60m": sum(1 for v in speeds if 15 <= v < 60),
        "60m+": sum(1 for v in speeds if v >= 60),
    }
    met = sum(1 for x in truth.leads if x.get("sla") == "met")
    breached = sum(1 for x in truth.leads if x.get("sla") == "breached")
    assert report.sla_compliance == round(met / (met + breached), 4)
    ana = next(g for g in report.groups if g.key == "ana")
    ana_speeds = [minutes(x["touch"], x["captured"]) for x in touched if x["rep"] == "ana"]
    assert ana.speed_to_lead.count == len(ana_speeds)
    assert ana.speed_to_lead.p99 == pytest.approx(pct(ana_speeds, 99), abs=1e-3)


async def _check_pipeline(s: AsyncSession, truth: Truth) -> None:
    tz = ZoneInfo(TZ)
    lo, hi = datetime(2025, 1, 1, tzinfo=tz), datetime(2025, 7, 1, tzinfo=tz)
    p = await pipeline_report(s, scope("custom", start=date(2025, 1, 1), end=date(2025, 7, 1)), CONFIG)
    won = [x for x in truth.leads if "won" in x["first"] and lo <= x["first"]["won"] < hi]
    lost = [
        x
        for x in truth.leads
        if "lost" in x["first"] and "won" not in x["first"] and lo <= x["first"]["lost"] < hi
    ]
    assert (p.figures.won, p.figures.lost) == (len(won), len(lost))
    assert p.figures.win_rate == round(len(won) / (len(won) + len(lost)), 4)
    values = [x["deal"] for x in won if x["deal"] is not None]
    assert p.figures.average_deal == pytest.approx(statistics.fmean(values), abs=0.01)
    cycles = [(x["first"]["won"] - x["first"]["sql"]).total_seconds() / 86400 for x in won]
    assert p.figures.cycle_days_mean == pytest.approx(statistics.fmean(cycles), abs=1e-3)
    assert p.figures.cycle_days_median == pytest.approx(statistics.median(cycles), abs=1e-3)
    created = sum(1 for x in truth.leads if "sql" in x["first"] and lo <= x["first"]["sql"] < hi)
    assert p.figures.opportunities == created
    velocity = (
        created * statistics.fmean(values) * (len(won) / (len(won) + len(lost))) / statistics.fmean(cycles)
    )
    assert p.figures.velocity_per_day == pytest.approx(velocity, rel=1e-3)
    # Open as of AS_OF: created by then, and neither won nor lost by then (later closes are future).
    open_ = [
        x
        for x in truth.leads
        if x["first"].get("sql", AS_OF) < AS_OF
        and not any(x["first"].get(k, AS_OF) < AS_OF for k in ("won", "lost"))
    ]
    assert p.figures.open_opportunities == len(open_)
    slipped = [x for x in open_ if x["close"] < AS_OF.astimezone(tz).date()]
    assert p.figures.slipped == len(slipped)
    assert p.figures.slipped_value == pytest.approx(sum(x["deal"] or 0 for x in slipped), abs=0.05)
