"""A tiny local webhook receiver for trying deliveries (and for the tests and the benchmark):
it answers every request with a chosen status (after an optional delay) and keeps a ledger.

`python -m services.delivery.devreceiver --port 9100` runs one; `GET /__stats` gives the count.
HTTP/1.1 with keep-alive, enough for an HTTP client's connection pool; not a general server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0


Responder = Callable[[Received], Reply | Awaitable[Reply]]
_REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
}


class Receiver:
    def __init__(self, respond: Responder | None = None, *, keep_bodies: bool = True) -> None:
        self.respond: Responder = respond or (lambda _: Reply())
        self.received: list[Received] = []
        self.count = 0
        self._keep = keep_bodies
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                if request.path == "/__stats":
                    reply = Reply(
                        200, {"content-type": "application/json"}, json.dumps({"count": self.count}).encode()
                    )
                else:
                    self.count += 1
                    if self._keep:
                        self.received.append(request)
                    answer = self.respond(request)
                    reply = await answer if not isinstance(answer, Reply) else answer
                    if reply.delay_s:
                        await asyncio.sleep(reply.delay_s)
                head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                head.append(f"content-length: {len(reply.body)}")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + reply.body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._conns.discard(task)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method, path, headers, body)


async def _main(port: int, status: int) -> None:
    receiver = Receiver(lambda _: Reply(status), keep_bodies=False)
    await receiver.start(port)
    print(f"receiving on {receiver.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.port, args.status))
