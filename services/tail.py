"""`leadrelay tail`: print a topic's CloudEvents as JSON lines (a plain consumer, no group)."""

from __future__ import annotations

import asyncio
import json
import sys

from shared.events import CloudEvent, EnvelopeError
from shared.kafka.readers import topic_reader


async def tail(
    bootstrap: str, topic: str, *, lead_id: str | None, count: int | None, timeout_s: float
) -> int:
    """Print matching events from the start of `topic`; stop after `count` or `timeout_s` of silence."""
    consumer = topic_reader(bootstrap, topic)
    await consumer.start()
    printed = 0
    try:
        idle_since = asyncio.get_running_loop().time()
        while count is None or printed < count:
            batches = await consumer.getmany(timeout_ms=200)
            now = asyncio.get_running_loop().time()
            if not batches and timeout_s and now - idle_since > timeout_s:
                break
            for records in batches.values():
                idle_since = now
                for record in records:
                    try:
                        event = CloudEvent.from_bytes(record.value)
                    except EnvelopeError:
                        print(json.dumps({"unreadable": True, "offset": record.offset}), flush=True)
                        continue
                    if lead_id and event.subject != lead_id:
                        continue
                    sys.stdout.write(event.model_dump_json() + "\n")
                    sys.stdout.flush()
                    printed += 1
                    if count is not None and printed >= count:
                        return printed
    finally:
        await consumer.stop()
    return printed
