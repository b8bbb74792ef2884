"""The form sources this ingest serves, built once from the config file and the environment.

Secrets come from the environment variables the config names (two for rotation). In dev,
a source whose variables are unset uses a dev secret derived from its name (what `leadrelay
demo` signs with), and says so; outside dev it fails closed: every request answers 401.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.ingest.sources import GraphClient, SourceAdapter, SourceOptions, build_adapter, check_secret
from services.ingest.webhooks.rate_limit import TokenBucket
from shared.config import LeadRelayConfig
from shared.config.schema import SourceConfig
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass
class ConfiguredSource:
    name: str
    kind: str
    adapter: SourceAdapter
    options: SourceOptions
    secrets: list[str]
    limit: TokenBucket
    verify_token: str | None = None  # facebook: the hub.verify_token
    graph: GraphClient | None = None  # facebook: reads each lead's fields


def dev_secret(kind: str, name: str) -> str:
    """The secret a dev stack uses for a source whose variables are unset (never outside dev)."""
    digest = hashlib.sha256(f"leadrelay-dev:{name}".encode()).digest()
    if kind == "standard":
        return "whsec_" + base64.b64encode(digest).decode()
    return "dev-" + digest.hex()[:32]


def _secrets(name: str, source: SourceConfig, env: Mapping[str, str], dev: bool) -> list[str]:
    found = [env[var] for var in source.secret_env if env.get(var)]
    for secret in found:
        try:
            check_secret(source.kind, secret)
        except ValueError as exc:
            raise ValueError(
                f"source {name}: the secret in {source.secret_env} is not usable: {exc}"
            ) from exc
    if found:
        return found
    if dev:
        log.warning("source_uses_dev_secret", source=name, set_one_of=source.secret_env)
        return [dev_secret(source.kind, name)]
    log.error("source_has_no_secret", source=name, set_one_of=source.secret_env)
    return []


def _facebook(
    name: str, source: SourceConfig, env: Mapping[str, str], dev: bool
) -> tuple[str | None, GraphClient]:
    assert source.facebook is not None  # guaranteed by SourceConfig's validation
    fb = source.facebook
    token = env.get(fb.verify_token_env) or (dev_secret("facebook-verify", name) if dev else None)
    access = env.get(fb.access_token_env) or ""
    return token, GraphClient(access, base_url=fb.graph_url, version=fb.api_version)


def build_sources(
    config: LeadRelayConfig, *, dev: bool, env: Mapping[str, str] | None = None
) -> dict[str, ConfiguredSource]:
    """Every webhook source in the config (canonical ones are served by POST /v1/leads instead)."""
    env = os.environ if env is None else env
    sources: dict[str, ConfiguredSource] = {}
    for name, source in config.sources.items():
        if source.kind == "canonical":
            continue
        options = SourceOptions(
            field_map=source.field_map,
            product_line=source.product_line,
            campaign=source.campaign,
            tolerance_s=source.tolerance_s,
        )
        configured = ConfiguredSource(
            name=name,
            kind=source.kind,
            adapter=build_adapter(source.kind, options),
            options=options,
            secrets=_secrets(name, source, env, dev),
            limit=TokenBucket(source.rate_limit.per_second, source.rate_limit.burst),
        )
        if source.kind == "facebook":
            configured.verify_token, configured.graph = _facebook(name, source, env, dev)
        sources[name] = configured
    return sources
