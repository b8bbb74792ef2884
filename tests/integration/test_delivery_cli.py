"""`leadrelay deliveries list|show|retry|purge` on the deliverer's database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Receiver, Reply
from tests.integration.test_delivery_support import SECRET, assigned, config_with, deliverer, endpoint

pytestmark = pytest.mark.db


async def test_list_show_retry(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)
    monkeypatch.setenv("LEADRELAY_DELIVERY_DATABASE_URL", database_url)
    receiver = Receiver(lambda _: Reply(500))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, schedule_s=[0])])
    try:
        async with deliverer(database_url, config, ManualClock(datetime(2026, 12, 1, tzinfo=UTC))) as d:
            await d.feed(assigned("lead-1"))
            await d.dispatcher.drain()
    finally:
        await receiver.stop()
    runner = CliRunner()
    import asyncio

    listed = await asyncio.to_thread(runner.invoke, app, ["deliveries", "list"])
    assert listed.exit_code == 0 and "webhook:crm" in listed.output and "dead" in listed.output
    shown = await asyncio.to_thread(runner.invoke, app, ["deliveries", "show", "1"])
    assert shown.exit_code == 0 and "500" in shown.output
    retried = await asyncio.to_thread(runner.invoke, app, ["deliveries", "retry", "--all"])
    assert retried.exit_code == 0 and "replayed 1 delivery" in retried.output
    again = await asyncio.to_thread(runner.invoke, app, ["deliveries", "retry", "1"])
    assert again.exit_code == 1
    # Replayed, it is pending now: not a dead letter, so not purged.
    kept = await asyncio.to_thread(runner.invoke, app, ["deliveries", "purge", "1"])
    assert kept.exit_code == 1 and "purged 0" in kept.output
    usage = await asyncio.to_thread(runner.invoke, app, ["deliveries", "purge"])
    assert usage.exit_code == 2


async def test_purge_deletes_dead_letters(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)
    monkeypatch.setenv("LEADRELAY_DELIVERY_DATABASE_URL", database_url)
    receiver = Receiver(lambda _: Reply(500))
    url = await receiver.start()
    config = config_with(deliveries=[endpoint("crm", url, schedule_s=[0])])
    try:
        async with deliverer(database_url, config, ManualClock(datetime(2026, 12, 1, tzinfo=UTC))) as d:
            await d.feed(assigned("lead-1", 0), assigned("lead-2", 1))
            await d.dispatcher.drain()
    finally:
        await receiver.stop()
    runner = CliRunner()
    import asyncio

    one = await asyncio.to_thread(runner.invoke, app, ["deliveries", "purge", "1"])
    assert one.exit_code == 0 and "purged 1 dead delivery" in one.output
    rest = await asyncio.to_thread(runner.invoke, app, ["deliveries", "purge", "--all"])
    assert rest.exit_code == 0 and "purged 1 dead delivery" in rest.output
    listed = await asyncio.to_thread(runner.invoke, app, ["deliveries", "list", "--status", "all"])
    assert "webhook:crm" not in listed.output
