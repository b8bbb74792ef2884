"""A consumer process for crash tests: `python -m tests.helpers.consumer_proc ...`.

With --hang-after-commit it commits the handler's transaction, writes the marker file,
and hangs before the loop can commit the offset: the test kills it there with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from shared.kafka import ConsumerLoop, Delivery, EventProducer
from tests.helpers.effects import effect_handler, open_db
from tests.helpers.kafka_tools import TEST_SESSION_TIMEOUT_MS


async def main(args: argparse.Namespace) -> None:
    _, sessions = await open_db(args.db)

    async def after_commit(_: Delivery) -> None:
        if args.hang_after_commit:
            Path(args.marker).write_text("committed")
            await asyncio.sleep(3600)

    producer = EventProducer(args.bootstrap, client_id="crash-test")
    loop = ConsumerLoop(
        bootstrap=args.bootstrap,
        group_id=args.group,
        topics=[args.topic],
        handler=effect_handler(sessions, after_commit),
        dead_letters=producer,
        dlq_topic=args.topic + ".dlq",
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
    )
    await loop.run(asyncio.Event())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("--bootstrap", "--topic", "--group", "--db", "--marker"):
        parser.add_argument(name, required=True)
    parser.add_argument("--hang-after-commit", action="store_true")
    asyncio.run(main(parser.parse_args()))
