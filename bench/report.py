"""Rich tables for the terminal and the JSON written to bench/results/latest.json."""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.latency import LatencyResult
from bench.load import percentile
from bench.router_rate import RouterRateResult
from bench.throughput import TargetResult

RATIO_TARGET = 0.85


def _n(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def throughput_ratio(results: list[TargetResult]) -> tuple[float, list[float]]:
    """Candidate/baseline on the medians, and per round (each pair measured back to back)."""
    by_name = {r.name: r for r in results}
    base, cand = by_name["baseline"], by_name["ingest"]
    ratio = cand.median_rps / base.median_rps if base.median_rps else math.nan
    paired = [c.rps / b.rps for b, c in zip(base.rounds, cand.rounds, strict=False) if b.rps]
    return ratio, paired


def throughput_table(results: list[TargetResult], concurrency: int, cores: int | None) -> Table:
    base = next(r for r in results if r.name == "baseline")
    rounds = len(base.rounds)
    legend = "; ".join(f"{r.name} = {r.description}" for r in results)
    table = Table(
        title=f"Ingest throughput: POST /v1/leads, {base.requests // max(rounds, 1)} requests per round, "
        f"{concurrency} in flight, {rounds} interleaved round(s), median req/s",
        caption=f"{legend}.\n{cores} CPU cores: the load generator (httpx, same for both apps) shares them "
        "with the server and the broker, so absolute req/s are this machine's; both apps are measured "
        "the same way, so the ratio compares like with like. CPU ms/req from /proc, measured phase only: "
        "server / broker / load generator.",
    )
    for column in ("app", "req/s", "per round", "vs baseline", "p50 ms", "p99 ms", "non-202", "CPU ms/req"):
        table.add_column(column, justify="left" if column == "app" else "right")
    for r in results:
        ratio = r.median_rps / base.median_rps if base.median_rps else math.nan
        if r.name == "ingest":
            style = "green" if ratio >= RATIO_TARGET else "bold red"
            vs = f"[{style}]{ratio:.2f}[/] (≥ {RATIO_TARGET})"
        else:
            vs = f"{ratio:.2f}"
        cpu = (r.server_cpu_s, r.broker_cpu_s, r.client_cpu_s)
        table.add_row(
            r.name,
            _n(r.median_rps),
            " / ".join(_n(x.rps) for x in r.rounds),
            vs,
            _n(r.latency_ms(50), 1),
            _n(r.latency_ms(99), 1),
            f"[bold red]{r.non_202} ({r.non_202_share:.2%})[/]" if r.non_202 else "0 (0%)",
            " / ".join(_n(r.cpu_ms_per_request(x), 2) for x in cpu),
        )
    return table


def latency_table(results: list[LatencyResult], leads: int) -> Table:
    table = Table(
        title=f"End-to-end webhook → lead.assigned: {leads} qualifying leads per load, "
        "broker + ingest, router, metrics as processes, SQLite",
        caption="latency: POST sent → lead.assigned read from the handoffs topic by a plain consumer "
        "(one clock). Stages, p50 on the wall clock: webhook → router decided / decided → outbox relay "
        "produced / produced → read. Last column: P50 of the first and the last fifth of the leads sent; "
        "a large rise means a growing backlog (the load is above what the pipeline sustains here), "
        "not a steady state.",
    )
    columns = (
        "broker",
        "load",
        "achieved",
        "handoffs",
        "P50 ms",
        "P90 ms",
        "P99 ms",
        "max ms",
        "202 p50/p99 ms",
    )
    for column in (*columns, "stages p50 ms", "P50 early→late ms"):
        table.add_column(column, justify="right")
    for r in results:
        lat = r.latencies_ms
        complete = r.arrived == r.sent == leads and r.statuses[202] == r.sent
        stages = " / ".join(_n(percentile(v, 50), 1) for v in r.stages_ms.values())
        table.add_row(
            r.broker,
            f"{r.rate_target:g} leads/s",
            f"{r.rate_achieved:.1f}/s",
            f"{r.arrived}/{r.sent}" if complete else f"[bold red]{r.arrived}/{r.sent}[/]",
            _n(percentile(lat, 50), 1),
            _n(percentile(lat, 90), 1),
            _n(percentile(lat, 99), 1),
            _n(max(lat, default=math.nan), 1),
            f"{_n(percentile(r.ack_ms, 50), 1)} / {_n(percentile(r.ack_ms, 99), 1)}",
            stages,
            " → ".join(_n(x) for x in r.drift_ms()),
        )
    return table


def brokers_table(latency: list[LatencyResult], router: list[RouterRateResult], leads: int) -> Table:
    """One row per broker: end-to-end P50 / P99 at each load, and the router's own rate."""
    brokers = list(dict.fromkeys([*(r.broker for r in latency), *(r.broker for r in router)]))
    rates = list(dict.fromkeys(r.rate_target for r in latency))
    router_leads = router[0].leads if router else 0
    table = Table(
        title="Brokers side by side: embedded (Tansu, memory) vs Apache Kafka 4.1.2 (KRaft, one node)",
        caption=f"e2e: webhook POST → lead.assigned read back, {leads} qualifying leads per load, "
        f"P50 / P99 ms, handoffs arrived in brackets. Router: a burst of {router_leads} lead.captured, "
        "the router alone (SQLite), leads/s between the first and the last lead.assigned; router CPU "
        "ms per lead.",
    )
    table.add_column("broker")
    for rate in rates:
        table.add_column(f"e2e @{rate:g}/s", justify="right")
    table.add_column("router leads/s", justify="right")
    table.add_column("router CPU ms/lead", justify="right")
    for broker in brokers:
        cells = []
        for rate in rates:
            r = next((x for x in latency if x.broker == broker and x.rate_target == rate), None)
            cells.append(
                "—"
                if r is None
                else f"{_n(percentile(r.latencies_ms, 50), 1)} / {_n(percentile(r.latencies_ms, 99), 1)} "
                f"({r.arrived}/{r.sent})"
            )
        rr = next((x for x in router if x.broker == broker), None)
        cells.append("—" if rr is None else f"{rr.leads_per_s:,.0f} ({rr.assigned}/{rr.leads})")
        cells.append("—" if rr is None else _n(rr.router_cpu_ms_per_lead, 2))
        table.add_row(broker, *cells)
    return table


def generator_note(results: list[TargetResult]) -> str | None:
    base = next((r for r in results if r.name == "baseline"), None)
    if base is None or base.generator_core_share < 0.9:
        return None
    return (
        f"the load generator kept {base.generator_core_share:.0%} of a core busy during the baseline: "
        "the baseline figure is the client's limit, so the ratio is an upper bound; compare server "
        "CPU ms/req for the apps' own cost"
    )


def failures(
    throughput: list[TargetResult],
    latency: list[LatencyResult],
    leads: int,
    router: list[RouterRateResult] | None = None,
) -> list[str]:
    found = []
    for rr in router or []:
        if rr.assigned != rr.leads:
            found.append(f"router rate on {rr.broker}: {rr.assigned} of {rr.leads} leads assigned")
    for t in throughput:
        if t.non_202:
            found.append(f"throughput {t.name}: {t.non_202} non-202 responses ({t.to_json()['statuses']})")
    for r in latency:
        if r.statuses[202] != r.sent or r.sent != leads:
            statuses = dict(r.statuses)
            found.append(f"e2e {r.broker} @{r.rate_target:g}/s: {r.sent} sent, statuses {statuses}")
        if r.arrived != r.sent:
            found.append(
                f"e2e {r.broker} @{r.rate_target:g}/s: only {r.arrived} of {r.sent} handoffs arrived"
            )
    return found


def print_failures(console: Console, found: list[str]) -> None:
    for message in found:
        console.print(f"[bold red]FAIL[/] {escape(message)}", highlight=False)
