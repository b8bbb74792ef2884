"""Observability as deployed: alert rules and the Grafana dashboard name only metrics the code exports,
Prometheus scrapes every service on its port, compose runs both; trace context on events."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import REGISTRY

import services.delivery.observability
import services.ingest.observability as ingest_obs
import services.metrics.observability
import services.router.observability
import shared.observability
from services.ingest.settings import IngestSettings
from services.metrics.settings import MetricsSettings
from services.router.settings import RouterSettings
from shared.events import CloudEvent, LeadRecycled

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
_METRIC = re.compile(r"\bleadrelay_[a-z_]+")
_MODULES = (services.delivery.observability, services.metrics.observability, services.router.observability)
_MODULES += (shared.observability, ingest_obs)  # imported for their registrations


def _exported() -> set[str]:
    """Every series name the code registers, labelled series included before their first sample."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    return {
        family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, ("",))
    }


def _names(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_alert_rules_are_complete_and_reference_exported_metrics() -> None:
    exported, rules = _exported(), _rules()
    assert {"LeadRelayConsumerLagHigh", "LeadRelaySlaBreaches", "LeadRelayDeadLetters"} <= {
        r["alert"] for r in rules
    }
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        names = _names(rule["expr"])
        assert names and names <= exported, f"{rule['alert']} uses {names - exported}, which no code exports"


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    targets: dict[str, str] = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets[job["job_name"]] = static["targets"][0]
        for sd in job.get("dns_sd_configs", []):
            targets[job["job_name"]] = f"{sd['names'][0]}:{sd['port']}"
    ports = {
        "ingest": IngestSettings().port,
        "router": RouterSettings().port,
        "metrics": MetricsSettings().port,
    }
    assert targets == {name: f"{name}:{port}" for name, port in ports.items()}


def test_grafana_dashboard_is_well_formed_and_queries_exported_metrics() -> None:
    """A structural lint of the dashboard model Grafana loads (schemaVersion 39): required fields,
    unique panel ids, a 24-column grid without overlaps, targets with refIds on the provisioned
    Prometheus datasource, and PromQL naming only exported metrics."""
    dash = json.loads((DEPLOY / "grafana" / "leadrelay.json").read_text())
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert (
        dash["uid"]
        and dash["title"]
        and isinstance(dash["schemaVersion"], int)
        and dash["schemaVersion"] >= 36
    )
    assert {"time", "panels", "templating", "annotations"} <= set(dash)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    exported = _exported()
    for panel in dash["panels"]:
        assert panel["type"] in ("timeseries", "stat", "gauge", "table", "bargauge"), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
        assert panel["datasource"]["uid"] == uid
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in panel["targets"]:
            names = _names(target["expr"])
            assert names and names <= exported, f"{panel['title']}: {names - exported} not exported"


def test_compose_runs_prometheus_and_grafana_with_the_deploy_files() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
    password = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert password.startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_traceparent_travels_on_events_and_is_absent_when_unset() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    payload = LeadRecycled(reason="no_budget")
    traced = CloudEvent.wrap(payload, subject="lead-1", source="test", time=_now(), traceparent=parent)
    assert CloudEvent.from_bytes(traced.to_bytes()).traceparent == parent
    plain = CloudEvent.wrap(payload, subject="lead-1", source="test", time=_now())
    assert b"traceparent" not in plain.to_bytes()


def test_ingest_request_metrics_count_every_answer_by_source() -> None:
    app = FastAPI()

    @app.post("/v1/sources/{source}/webhooks")
    async def hook(source: str) -> dict[str, str]:
        return {"source": source}

    wrapped = ingest_obs.RequestMetrics(app, known_sources=frozenset({"tally"}))
    before = (
        REGISTRY.get_sample_value(
            "leadrelay_ingest_http_requests_total", {"source": "tally", "status": "200"}
        )
        or 0.0
    )

    async def call() -> int:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=wrapped), base_url="http://i"
        ) as client:
            return (await client.post("/v1/sources/tally/webhooks")).status_code

    assert asyncio.run(call()) == 200
    after = REGISTRY.get_sample_value(
        "leadrelay_ingest_http_requests_total", {"source": "tally", "status": "200"}
    )
    assert after == before + 1
    assert ingest_obs.source_of("/v1/leads") == "api" and ingest_obs.source_of("/healthz") is None
    assert ingest_obs.source_of("/v1/sources/made-up-123/webhooks") == "unknown"  # bounded labels


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
