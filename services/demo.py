"""`leadrelay demo`: realistic inbound traffic and sales feedback against a running stack.

Three parts, one progress bar:
- canonical leads on `POST /v1/leads`, and with `--source` signed vendor webhooks on
  `/v1/sources/<name>/webhooks` (`services.demo_vendors`), each captured at a seeded time over the
  past months (event time), so the funnel has cohorts;
- the sales tools (`services.demo_sales`): for every lead the router assigns (read from the handoffs
  topic) the rep's first touch, accept or reject, opportunity, won or lost, on event time;
- a summary of what was posted and answered.

Leads are synthetic (seeded random names, companies and `.example` domains), never real people.
The same seed on the same day posts the same leads, ids and event times.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.demo_sales import Handoff, story, watch_handoffs
from services.demo_vendors import VendorSource, vendor_payload
from services.ingest.sources.samples import signed_request

FIRST = [
    "Ada",
    "Bruno",
    "Chiara",
    "Deepak",
    "Emma",
    "Felix",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lena",
]
LAST = [
    "Novak",
    "Silva",
    "Rossi",
    "Iyer",
    "Martin",
    "Keller",
    "Hopper",
    "Tanaka",
    "Costa",
    "Berg",
    "Ade",
    "Vogel",
]
COMPANY = [
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Acme",
    "Soylent",
]
SUFFIX = ["Labs", "Systems", "Group", "Analytics", "Cloud", "Logistics"]
COUNTRIES = ["US", "US", "US", "CA", "GB", "DE", "FR", "NL", "BR", "IN", "AU"]
TITLES = ["VP Sales", "Head of Marketing", "RevOps Manager", "CTO", "Founder", "Sales Director", "Analyst"]
CAMPAIGNS = ["webinar-q4", "pricing-page", "ebook-pipeline", "g2-review", "partner-referral"]
FREE_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com"]
SALES_CONCURRENCY = 8  # leads whose activities are posted at once (each lead's in order)


def fake_lead(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(COMPANY)} {rng.choice(SUFFIX)}"
    personal = rng.random() < 0.15
    domain = rng.choice(FREE_DOMAINS) if personal else company.lower().replace(" ", "") + ".example"
    lead: dict[str, Any] = {
        "email": f"{first}.{last}.{n}@{domain}".lower(),
        "first_name": first,
        "last_name": last,
        "company": company,
        "title": rng.choice(TITLES),
        "country": rng.choice(COUNTRIES),
        "employees": int(rng.lognormvariate(4.0, 1.4)),
        "product_line": rng.choice(["core", "core", "analytics"]),
        "utm": {
            "source": rng.choice(["google", "linkedin", "newsletter", "direct"]),
            "campaign": rng.choice(CAMPAIGNS),
        },
    }
    return lead


@dataclass(frozen=True)
class DemoPlan:
    url: str
    api_key: str
    leads: int  # canonical leads
    rate: float  # requests per second (0: as fast as possible)
    seed: int
    vendors: Sequence[VendorSource] = ()
    per_source: int = 10
    months: int = 6  # event time spread of the captures
    bootstrap: str | None = None  # the broker the sales side reads handoffs from (None: no sales)
    handoffs_topic: str = "leadrelay.handoffs"
    idle_s: float = 15.0  # stop waiting for routing after this long without news of our leads


@dataclass
class DemoResult:
    statuses: Counter[int] = field(default_factory=Counter)  # lead and webhook posts
    by_source: Counter[str] = field(default_factory=Counter)  # accepted (202/200) per source
    routed: Counter[str] = field(default_factory=Counter)  # lead.assigned, lead.disqualified, ...
    activities: Counter[str] = field(default_factory=Counter)  # posted per kind
    activity_statuses: Counter[int] = field(default_factory=Counter)
    sales_note: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Job:
    n: int
    at: datetime  # capture, event time
    vendor: VendorSource | None = None


def _anchor() -> datetime:
    """Today's midnight (UTC): captures lie before it, and sales activities after it are not posted."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def plan_jobs(plan: DemoPlan, rng: random.Random, anchor: datetime) -> list[Job]:
    """Every request, in posting order, with its capture time: mostly within working hours (ET)."""
    vendor_jobs = [(v, i) for v in plan.vendors for i in range(plan.per_source)]
    slots: list[VendorSource | None] = [None] * plan.leads + [v for v, _ in vendor_jobs]
    rng.shuffle(slots)
    jobs = []
    for n, vendor in enumerate(slots):
        day = anchor - timedelta(days=1 + int(plan.months * 30 * rng.random() ** 0.8))
        hour = rng.uniform(13, 22) if rng.random() < 0.85 else rng.uniform(0, 24)
        jobs.append(Job(n, day + timedelta(hours=hour), vendor))
    return jobs


async def _post(client: httpx.AsyncClient, path: str, body: bytes | None = None, **kw: Any) -> httpx.Response:
    """POST, waiting out a 429's Retry-After a few times (the demo must not trip the rate limit)."""
    for _ in range(5):
        response = await client.post(path, content=body, **kw)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
    return response


async def _post_job(
    client: httpx.AsyncClient, plan: DemoPlan, job: Job, person: dict[str, Any]
) -> httpx.Response:
    if job.vendor is None:
        # Our own ids (as a CRM would send): a lead's sales story is seeded by its id.
        body = person | {"lead_id": f"demo-{plan.seed}-{job.n}", "occurred_at": job.at.isoformat()}
        key = {"Idempotency-Key": f"demo-{plan.seed}-{job.n}"}
        return await _post(client, "/v1/leads", json=body, headers=key)
    v = job.vendor
    uid = hashlib.sha256(f"{plan.seed}:{v.name}:{job.n}".encode()).hexdigest()[:16]
    path = f"/v1/sources/{v.name}/webhooks"
    payload = vendor_payload(v.kind, person, uid, job.at)
    headers, raw = signed_request(
        v.kind, v.secret, payload, datetime.now(UTC), f"{plan.url.rstrip('/')}{path}"
    )
    return await _post(client, path, raw, headers=headers)


class Demo:
    def __init__(self, plan: DemoPlan, console: Console) -> None:
        self.plan, self.console = plan, console
        self.result = DemoResult()
        self.captured: dict[str, datetime] = {}  # our new leads (202), by id
        self.pending: set[str] = set()  # ... not routed yet
        self.early: dict[str, Handoff] = {}  # routed before we read the 202 (or not ours)
        self.posting_done = False
        self.sales: set[asyncio.Task[None]] = set()
        self.gate = asyncio.Semaphore(SALES_CONCURRENCY)
        self.anchor = _anchor()

    async def run(self) -> DemoResult:
        started = time.monotonic()
        rng = random.Random(self.plan.seed)  # noqa: S311 - reproducible fake data, not security
        jobs = plan_jobs(self.plan, rng, self.anchor)
        columns = (
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        headers = {"X-API-Key": self.plan.api_key}
        async with (
            httpx.AsyncClient(base_url=self.plan.url, headers=headers, timeout=10.0) as client,
        ):
            with Progress(*columns, console=self.console) as progress:
                self.progress = progress
                self.leads_bar = progress.add_task("demo leads", total=len(jobs))
                self.sales_bar = progress.add_task(
                    "sales activities", total=0, visible=self.plan.bootstrap is not None
                )
                watcher = asyncio.create_task(self._watch(client)) if self.plan.bootstrap else None
                await self._post_all(client, rng, jobs)
                self.posting_done = True
                if watcher is not None:
                    await watcher
                if self.sales:
                    await asyncio.gather(*self.sales)
        self.result.seconds = time.monotonic() - started
        return self.result

    async def _post_all(self, client: httpx.AsyncClient, rng: random.Random, jobs: list[Job]) -> None:
        interval = 1.0 / self.plan.rate if self.plan.rate > 0 else 0.0
        start = time.monotonic()
        for i, job in enumerate(jobs):
            person = fake_lead(rng, job.n)  # drawn for every job, so the sequence never depends on answers
            if (pause := start + i * interval - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            source = job.vendor.name if job.vendor else "api"
            try:
                response = await _post_job(client, self.plan, job, person)
                status = response.status_code
            except httpx.HTTPError:
                status, response = 0, None
            self.result.statuses[status] += 1
            if status in (200, 202):
                self.result.by_source[source] += 1
            if status == 202 and response is not None:
                for lead in response.json().get("leads") or [response.json()]:
                    if lead.get("lead_id") and not lead.get("replayed"):
                        self.captured[lead["lead_id"]] = job.at
                        self.pending.add(lead["lead_id"])
                        if (handoff := self.early.pop(lead["lead_id"], None)) is not None:
                            self._routed(client, handoff)
            self.progress.advance(self.leads_bar)

    def _routed(self, client: httpx.AsyncClient, handoff: Handoff) -> None:
        self.pending.discard(handoff.lead_id)
        self.result.routed[handoff.type] += 1
        if handoff.type == "lead.assigned":
            task = asyncio.create_task(self._play(client, handoff))
            self.sales.add(task)

    async def _watch(self, client: httpx.AsyncClient) -> None:
        assert self.plan.bootstrap is not None

        async def routed(handoff: Handoff) -> None:
            if handoff.lead_id in self.captured:
                self._routed(client, handoff)
            else:
                self.early[handoff.lead_id] = handoff

        try:
            await watch_handoffs(
                self.plan.bootstrap,
                self.plan.handoffs_topic,
                routed,
                lambda: self.posting_done and not self.pending,
                self.plan.idle_s,
            )
        except (KafkaError, OSError) as exc:  # no broker there: the leads were still posted
            self.result.sales_note = f"no sales feedback: cannot read {self.plan.handoffs_topic} ({exc})"

    async def _play(self, client: httpx.AsyncClient, handoff: Handoff) -> None:
        lead_id = handoff.lead_id
        activities = story(self.plan.seed, lead_id, self.captured[lead_id], self.anchor)
        self.progress.update(
            self.sales_bar, total=(self.progress.tasks[self.sales_bar].total or 0) + len(activities)
        )
        async with self.gate:
            for activity in activities:  # in order: a lead's feedback must arrive as it happened
                key = {"Idempotency-Key": f"demo-{self.plan.seed}-{lead_id}-{activity.kind}"}
                try:
                    body = activity.body(lead_id, handoff.rep_id)
                    status = (await _post(client, "/v1/activities", json=body, headers=key)).status_code
                except httpx.HTTPError:
                    status = 0
                self.result.activities[activity.kind] += 1
                self.result.activity_statuses[status] += 1
                self.progress.advance(self.sales_bar)


def run_demo(plan: DemoPlan, console: Console) -> DemoResult:
    return asyncio.run(Demo(plan, console).run())
