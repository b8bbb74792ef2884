"""The `leadrelay` command line."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from services.delivery.cli_commands import deliveries_app
from services.metrics.auth.cli import keys_app, users_app

app = typer.Typer(
    help="LeadRelay: event-driven MQL-to-SQL handoff.", no_args_is_help=True, add_completion=False
)
rules_app = typer.Typer(help="Qualification rules: check them before they go live.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(deliveries_app, name="deliveries")
console = Console(stderr=True)


def _error(message: str) -> None:
    # Messages quote user text (CEL with [brackets]); never let Rich read it as markup.
    console.print(f"[bold red]error:[/] {escape(message)}")


def _fail(message: str) -> None:
    _error(message)
    raise typer.Exit(1)


@app.command()
def ingest() -> None:
    """Run the ingest API (webhooks, leads, activities) on LEADRELAY_INGEST_PORT (8000)."""
    from services.ingest.main import run

    run()


@app.command()
def router() -> None:
    """Run the router: qualification, routing, handoff events (health on LEADRELAY_ROUTER_PORT, 8001)."""
    from services.router.main import run

    run()


@app.command()
def metrics() -> None:
    """Run the metrics consumer, reports API and dashboard on LEADRELAY_METRICS_PORT (8002)."""
    from services.metrics.main import run

    run()


@app.command()
def deliver() -> None:
    """Run the deliverer: signed webhooks, rep notifications, CRM write-back (API on 8003)."""
    from services.delivery.main import run

    run()


# `python -m services delivery` (how the dev stack starts each service by its name).
app.command("delivery", hidden=True)(deliver)


@rules_app.command("check")
def rules_check(
    file: Annotated[Path | None, typer.Argument(help="config file (default: LEADRELAY_CONFIG)")] = None,
    config: Annotated[Path | None, typer.Option(help="config file, as FILE")] = None,
) -> None:
    """Validate the config file: YAML, schema, and every CEL expression's syntax and types."""
    from services.router.qualification.check import load_checked
    from shared.config import ConfigError
    from shared.settings import CommonSettings

    path = file or config or CommonSettings().config
    try:
        loaded = load_checked(path)
    except ConfigError as exc:
        _fail(str(exc))
        return
    reps = sum(len(t.reps) for t in loaded.routing.teams)
    console.print(
        f"[green]ok[/] {path}: ruleset {loaded.qualification.version}, "
        f"{len(loaded.qualification.rules)} rules, {len(loaded.routing.teams)} teams, {reps} reps"
    )


def _register_rules() -> None:
    from services.router.cli_commands import register

    register(rules_app, console, _fail)


_register_rules()


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="ingest base URL")] = "http://127.0.0.1:8000",
    leads: Annotated[
        int | None, typer.Option(min=0, help="canonical leads to post (default: 200, or 0 with --source)")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="also post signed vendor webhooks to the configured sources of this kind, or all"),
    ] = None,
    per_source: Annotated[int, typer.Option(min=1, help="webhooks per configured source")] = 10,
    rate: Annotated[float, typer.Option(min=0, help="requests per second (0: as fast as possible)")] = 20.0,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same day: same leads)")] = 7,
    months: Annotated[int, typer.Option(min=1, max=36, help="spread of the capture times (event time)")] = 6,
    sales: Annotated[
        bool, typer.Option(help="play the sales tools: read assignments, post feedback on event time")
    ] = True,
) -> None:
    """Post realistic synthetic leads (and vendor webhooks) and the sales feedback, with a progress bar."""
    from services.demo import DemoPlan, run_demo
    from services.demo_vendors import KINDS, graph_is_local, vendor_sources
    from services.ingest.settings import IngestSettings
    from shared.config import ConfigError, load_config
    from shared.events import Topics

    settings = IngestSettings()
    vendors = []
    if source is not None:
        if source not in (*KINDS, "all"):
            _fail(f"unknown source kind {source!r}; use one of: {', '.join((*KINDS, 'all'))}")
        try:
            config = load_config(settings.common.config)
        except ConfigError as exc:
            _fail(str(exc))
            return
        for found in vendor_sources(config, source):
            if found.kind == "facebook" and not graph_is_local(config, found.name):
                # Meta's Graph API has never heard of a demo's leadgen ids: every lead would fail.
                console.print(
                    f"skipping {found.name}: its leads are read from a Graph API the demo cannot feed"
                )
                continue
            vendors.append(found)
        if not vendors:
            _fail(f"no configured source of kind {source!r} to post to in {settings.common.config}")
    plan = DemoPlan(
        url=url,
        api_key=settings.api_key.get_secret_value(),
        leads=leads if leads is not None else (0 if source else 200),
        rate=rate,
        seed=seed,
        vendors=vendors,
        per_source=per_source,
        months=months,
        bootstrap=settings.common.kafka_bootstrap if sales else None,
        handoffs_topic=Topics(settings.common.topic_prefix).handoffs,
    )
    result = run_demo(plan, console)
    summary = ", ".join(f"{code or 'no answer'}: {n}" for code, n in sorted(result.statuses.items()))
    posted = sum(result.statuses.values())
    console.print(f"posted {posted} leads in {result.seconds:.1f}s ({summary})")
    if result.by_source:
        console.print("  by source: " + ", ".join(f"{k} {n}" for k, n in sorted(result.by_source.items())))
    if result.routed:
        console.print("  routed: " + ", ".join(f"{k} {n}" for k, n in sorted(result.routed.items())))
    if result.activities:
        console.print("  sales feedback: " + ", ".join(f"{k} {n}" for k, n in result.activities.items()))
    if result.sales_note:
        console.print(f"  {result.sales_note}")
    if set(result.statuses) - {200, 202} or set(result.activity_statuses) - {200, 202}:
        raise typer.Exit(1)


@app.command("import")
def import_history(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of historical events")],
) -> None:
    """Import historical leads and activities (CSV) into the metrics, with their own event times."""
    from services.metrics.cli_commands import import_file
    from services.metrics.importer import ImportFileError

    try:
        import_file(file, console)
    except ImportFileError as exc:
        _fail(f"{file}: {exc}")


@app.command()
def replay() -> None:
    """Rebuild every metrics figure from the metrics log (the stored facts), with a progress bar."""
    from services.metrics.cli_commands import replay_all

    replay_all(console)


@app.command()
def erase(
    email: Annotated[str, typer.Option(help="the address the person's leads were captured with")],
    url: Annotated[
        str | None, typer.Option(help="ingest's base URL (default: LEADRELAY_INGEST_HOST / _PORT)")
    ] = None,
) -> None:
    """Erase one person (GDPR right to erasure) in every service, through ingest's admin API."""
    from services.ingest.erasure.cli import EraseFailed, erase_person, ingest_url
    from services.ingest.settings import IngestSettings

    settings = IngestSettings()
    try:
        erasure_id, leads = erase_person(email, ingest_url(settings, url), settings.admin_key)
    except EraseFailed as exc:
        _fail(str(exc))
        return
    if not leads:
        typer.echo(f"erasure {erasure_id}: no lead was captured with that email; nothing to erase")
        return
    typer.echo(f"erasure {erasure_id}: {len(leads)} lead(s) erased: {', '.join(leads)}")
    typer.echo("router, metrics and delivery erase their copies as they consume it (seconds)")


@app.command()
def tail(
    topic: Annotated[
        str, typer.Argument(help="lead-events, handoffs or dlq (the configured prefix is added)")
    ],
    lead: Annotated[str | None, typer.Option(help="only this lead id")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many events")] = None,
    idle: Annotated[float, typer.Option(help="stop after this many seconds without events (0: never)")] = 0,
) -> None:
    """Print a topic's events as JSON lines, from the beginning (Ctrl-C to stop)."""
    import asyncio

    from services.tail import tail as tail_topic
    from shared.events import Topics
    from shared.settings import CommonSettings

    common = CommonSettings()
    topics = Topics(common.topic_prefix)
    names = {"lead-events": topics.lead_events, "handoffs": topics.handoffs, "dlq": topics.dlq}
    if topic not in names:
        _fail(f"unknown topic {topic!r}; use one of: {', '.join(names)}")
    try:
        asyncio.run(
            tail_topic(common.kafka_bootstrap, names[topic], lead_id=lead, count=count, timeout_s=idle)
        )
    except KeyboardInterrupt:
        pass


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="also drive realistic demo traffic")] = False,
    demo_leads: Annotated[int, typer.Option(min=1, help="leads the demo posts")] = 200,
    broker: Annotated[
        str,
        typer.Option(
            help="embedded: Tansu, in memory, Python only; kafka: Apache Kafka (KRaft), needs Java 17+ "
            "and `make kafka-jars`"
        ),
    ] = "embedded",
) -> None:
    """Run the whole stack: a broker, SQLite, ingest, router, metrics, delivery. Ctrl-C stops it all."""
    import os

    from services.delivery.settings import DeliverySettings
    from services.devstack import Stack
    from services.ingest.settings import IngestSettings
    from services.metrics.settings import MetricsSettings
    from services.router.qualification.check import load_checked
    from services.router.settings import RouterSettings
    from shared.config import ConfigError
    from shared.kafka.brokers import BROKER_KINDS
    from shared.kafka.jars import KafkaRuntimeMissing, java_binary, require_jars
    from shared.settings import CommonSettings

    started = time.monotonic()
    if broker not in BROKER_KINDS:
        _fail(f"unknown broker {broker!r}; use one of: {', '.join(BROKER_KINDS)}")
    try:
        load_checked(CommonSettings().config)  # refuse a bad config (CEL types too) before starting anything
    except ConfigError as exc:
        _fail(str(exc))
    if broker == "kafka" and not os.environ.get("LEADRELAY_KAFKA_BOOTSTRAP"):
        try:  # before starting anything: say what is missing and how to get it
            java_binary()
            require_jars()
        except KafkaRuntimeMissing as exc:
            _fail(str(exc))
    ingest_settings = IngestSettings()
    metrics_settings = MetricsSettings()
    ingest_port, metrics_port = ingest_settings.port, metrics_settings.port
    stack = Stack(
        ports={
            "ingest": ingest_port,
            "router": RouterSettings().port,
            "metrics": metrics_port,
            "delivery": DeliverySettings().port,
        },
        broker_kind="kafka" if broker == "kafka" else "embedded",
    )
    stopping = False

    def on_signal(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.prepare(console.print)
        stack.start_services()
        stack.wait_ready()
        console.print(f"[bold green]LeadRelay is ready[/] in {time.monotonic() - started:.1f}s")
        key = "X-API-Key from LEADRELAY_INGEST_API_KEY"
        if ingest_settings.common.is_dev:
            key = f"X-API-Key: {ingest_settings.api_key.get_secret_value()}"
        console.print(f"  ingest API   http://127.0.0.1:{ingest_port}/docs   ({key})")
        login = f"sign in as {metrics_settings.admin_user} with LEADRELAY_METRICS_ADMIN_PASSWORD"
        if metrics_settings.common.is_dev:
            password = metrics_settings.admin_password.get_secret_value()
            login = f"sign in: {metrics_settings.admin_user} / {password}"
        console.print(f"  dashboard    http://127.0.0.1:{metrics_port}/   ({escape(login)})")
        console.print(f"  funnel       http://127.0.0.1:{metrics_port}/v1/funnel")
        console.print(
            f"  deliveries   http://127.0.0.1:{DeliverySettings().port}/v1/deliveries   (X-API-Key)"
        )
        console.print(f"  logs         {stack.log_dir}/   ·   Ctrl-C stops everything")
        if demo:
            stack.start_demo(["--url", f"http://127.0.0.1:{ingest_port}", "--leads", str(demo_leads)])
        while True:
            stack.supervise(console.print)
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping…")
    except RuntimeError as exc:
        _error(str(exc))
        stack.stop()
        raise typer.Exit(1) from None
    stack.stop()
    console.print("stopped; nothing left running")


def main() -> None:
    app()
