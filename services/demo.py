"""`leadrelay demo`: realistic inbound traffic against a running ingest, with a progress bar.

Leads are synthetic (seeded random names, companies and domains), never real people.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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


@dataclass
class DemoResult:
    statuses: Counter[int]
    seconds: float


def run_demo(url: str, api_key: str, leads: int, rate: float, seed: int, console: Console) -> DemoResult:
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    statuses: Counter[int] = Counter()
    interval = 1.0 / rate if rate > 0 else 0.0
    started = time.monotonic()
    columns = (TextColumn("[bold]demo leads"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10.0) as client,
        Progress(*columns, console=console) as progress,
    ):
        task = progress.add_task("post", total=leads)
        for n in range(leads):
            due = started + n * interval
            if (pause := due - time.monotonic()) > 0:
                time.sleep(pause)
            try:
                status = client.post(
                    "/v1/leads", json=fake_lead(rng, n), headers={"Idempotency-Key": f"demo-{seed}-{n}"}
                ).status_code
            except httpx.HTTPError:
                status = 0
            statuses[status] += 1
            progress.advance(task)
    return DemoResult(statuses, time.monotonic() - started)
