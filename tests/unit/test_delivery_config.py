"""Delivery config, signing and the retry decision, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from standardwebhooks import Webhook, WebhookVerificationError

from services.delivery.config import DEFAULT_SCHEDULE_S
from services.delivery.outcome import Outcome, decide, http_outcome, parse_retry_after
from services.delivery.signing import MissingSecret, Signer, secrets_from_env
from shared.config import ConfigError, parse_config
from tests.integration.test_delivery_support import SECRET, SECRET_NEXT, config_dict, config_with, endpoint

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_endpoint_defaults_follow_svix() -> None:
    config = config_with(deliveries=[endpoint("crm", "https://crm.example/hooks")])
    [crm] = config.deliveries
    assert crm.schedule_s == list(DEFAULT_SCHEDULE_S) == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert crm.enabled and crm.event_types == [] and crm.timeout_s == 15


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"event_types": ["lead.teleported"]}, "unknown event type"),
        ({"when": "event.type ==="}, "CEL"),
        ({"secret_env": ["lower_case"]}, "environment variable"),
        ({"secret_env": ["A", "B", "C"]}, "at most 2"),
        ({"url": "ftp://x"}, "https?"),
    ],
)
def test_bad_endpoint_is_refused_with_the_line(bad: dict[str, object], message: str) -> None:
    text = yaml.safe_dump(config_dict(deliveries=[{**endpoint("crm", "https://crm.example"), **bad}]))
    with pytest.raises(ConfigError) as info:
        parse_config(text, "leadrelay.yaml")
    assert "leadrelay.yaml" in str(info.value) and message.lower() in str(info.value).lower()


def test_duplicate_endpoint_names_refused() -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        parse_config(
            yaml.safe_dump(config_dict(deliveries=[endpoint("a", "http://x"), endpoint("a", "http://y")]))
        )


def test_two_secrets_both_verify_with_standardwebhooks() -> None:
    body = b'{"id":"e1","type":"lead.assigned"}'
    headers = Signer([SECRET, SECRET_NEXT]).headers("e1", datetime.now(UTC), body)
    assert headers["webhook-id"] == "e1" and headers["webhook-signature"].count("v1,") == 2
    assert Webhook(SECRET).verify(body, headers) == {"id": "e1", "type": "lead.assigned"}
    assert Webhook(SECRET_NEXT).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(body, headers)


def test_secret_from_env_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_UNSET", raising=False)
    with pytest.raises(MissingSecret, match="T_UNSET"):
        secrets_from_env("crm", ["T_UNSET"], dev=False)
    assert secrets_from_env("crm", ["T_UNSET"], dev=True)[0].startswith("whsec_")
    monkeypatch.setenv("T_SET", SECRET)
    assert secrets_from_env("crm", ["T_UNSET", "T_SET"], dev=False) == [SECRET]


def test_decisions() -> None:
    schedule = [0, 5, 300]
    assert decide(http_outcome(204, {}, NOW), 1, schedule, NOW).next == "delivered"
    retry = decide(http_outcome(500, {}, NOW), 1, schedule, NOW)
    assert retry.next == "retry" and retry.next_attempt_at == NOW + timedelta(seconds=5)
    assert decide(http_outcome(500, {}, NOW), 3, schedule, NOW).next == "dead"
    assert decide(http_outcome(410, {}, NOW), 1, schedule, NOW).next == "gone"
    limited = decide(http_outcome(429, {"retry-after": "30"}, NOW), 2, schedule, NOW)
    assert limited.next_attempt_at == NOW + timedelta(seconds=30)
    assert decide(Outcome(False, None, "no owner", permanent=True), 1, schedule, NOW).next == "dead"


def test_retry_after_forms() -> None:
    assert parse_retry_after("7", NOW) == 7
    assert parse_retry_after("Tue, 01 Dec 2026 09:01:00 GMT", NOW) == 60
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("99999999", NOW) == 36000
