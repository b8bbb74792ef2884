"""Rep notifications captured by local servers: a Slack Block Kit message and an email (aiosmtpd),
deadline in the rep's zone, link to the timeline; the manager on escalation; never twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Receiver
from shared.events import Reason, SlaEscalated, SlaStarted
from shared.kafka.process import free_port
from tests.integration.test_delivery_support import assigned, captured, config_with, deliverer, wrap

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
BREACH = START + timedelta(minutes=5)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"


def _sla_started() -> bytes:
    payload = SlaStarted(
        clock_id="c1", policy="first-touch", target="first_touch", team="inbound-amer", rep_id="ana",
        started_at=START, target_seconds=300, warning_at=None, breach_at=BREACH,
        timezone="America/New_York", system_delay_seconds=0,
    )  # fmt: skip
    return wrap(payload, "lead-1", "sla-started", START)


def _escalated() -> bytes:
    payload = SlaEscalated(
        clock_id="c1", policy="first-touch", target="first_touch", team="inbound-amer", rep_id="ana",
        action="notify_manager", step=2, manager=None, due_at=BREACH, fired_at=BREACH,
        reasons=[Reason(code="sla_breached", message="first touch overdue by 15 minutes")],
    )  # fmt: skip
    return wrap(payload, "lead-1", "escalated", BREACH)


async def test_slack_and_email_reach_rep_then_manager_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = Receiver()
    slack_url = await slack.start()
    monkeypatch.setenv("T_SLACK_ANA", f"{slack_url}/services/T000/B000/ana")
    monkeypatch.setenv("T_SLACK_MAYA", f"{slack_url}/services/T000/B000/maya")
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    contacts = {
        "ana": {
            "email": "ana@sales.example",
            "slack_webhook_env": "T_SLACK_ANA",
            "timezone": "America/Los_Angeles",
        },
        "maya": {"email": "maya@sales.example", "slack_webhook_env": "T_SLACK_MAYA", "name": "Maya Lin"},
    }
    notifications = {
        "contacts": contacts,
        "timeline_url": "http://metrics.example:8002",
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "sender": "leadrelay@sales.example"},
    }
    config = config_with(notifications=notifications)
    clock = ManualClock(START)
    events = [captured("lead-1", first_name="Grace", last_name="Hopper", company="Navy"), assigned("lead-1")]
    try:
        async with deliverer(database_url, config, clock) as d:
            await d.feed(*events, _sla_started())
            await d.dispatcher.drain()
            assert slack.count == 0, "the assignment notice waits for its SLA deadline (assigned_delay_s)"
            clock.advance(1)
            await d.dispatcher.drain()
            await d.feed(*events, _sla_started())  # redelivered: nothing new
            clock.advance(60)
            await d.dispatcher.drain()
            assert slack.count == 1 and len(mailbox.messages) == 1
            await d.feed(_escalated(), _escalated())
            await d.dispatcher.drain()
    finally:
        smtp.stop()
        await slack.stop()
    assert [r.path for r in slack.received] == ["/services/T000/B000/ana", "/services/T000/B000/maya"]
    rep_msg = json.loads(slack.received[0].body)
    blocks = rep_msg["blocks"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "New lead assigned to you"
    fields = {f["text"].split("\n")[0].strip("*"): f["text"].split("\n")[1] for f in blocks[1]["fields"]}
    assert (
        fields["Lead"] == "Grace Hopper" and fields["Company"] == "Navy" and fields["Owner"] == "Ana Alvarez"
    )
    assert fields["SLA deadline"] == "Tue 01 Dec 2026, 07:05 (America/Los_Angeles)"  # 15:05 UTC in LA
    assert "round robin" in blocks[2]["text"]["text"]
    assert blocks[3]["elements"][0]["url"] == "http://metrics.example:8002/v1/leads/lead-1/timeline"
    manager_msg = json.loads(slack.received[1].body)
    assert manager_msg["blocks"][0]["text"]["text"].startswith("Escalation")
    assert "overdue by 15 minutes" in manager_msg["blocks"][2]["text"]["text"]
    assert [(m[0], m[1]) for m in mailbox.messages] == [
        ("leadrelay@sales.example", ["ana@sales.example"]),
        ("leadrelay@sales.example", ["maya@sales.example"]),
    ]
    mail = mailbox.messages[0][2]
    assert mail["Subject"] == "New lead assigned to you: Grace Hopper (Navy)"
    body = mail.get_payload()
    assert isinstance(body, str)
    assert "07:05 (America/Los_Angeles)" in body and "/v1/leads/lead-1/timeline" in body
    assert mailbox.messages[1][2]["Message-ID"] != mail["Message-ID"]


async def test_a_failing_slack_does_not_hold_email(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_SLACK_ANA", "http://127.0.0.1:9/dead")  # nothing listens on port 9
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    contacts = {"ana": {"email": "ana@sales.example", "slack_webhook_env": "T_SLACK_ANA"}}
    config = config_with(
        notifications={
            "contacts": contacts,
            "assigned_delay_s": 0,
            "smtp": {"host": "127.0.0.1", "port": smtp.port},
        }
    )
    try:
        async with deliverer(database_url, config, ManualClock(START)) as d:
            await d.feed(assigned("lead-1"))
            await d.dispatcher.drain()
    finally:
        smtp.stop()
    assert len(mailbox.messages) == 1
