"""A TCP proxy in front of a broker that can leave one member's rejoin unanswered.

The broker advertises the proxy's port (`EmbeddedBroker(advertised_port=...)`), so after bootstrap
every client connection goes through here. Requests are read frame by frame (a 4-byte size, then
the request); a JoinGroup from a member id in `unanswered_members` is read and dropped, so that
member waits for an answer that never comes, as a member did after a broker reset
(shared/kafka/stall.py). Everything else, both ways, is copied as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

JOIN_GROUP = 11


def join_group_member(request: bytes) -> str | None:
    """The member id of a JoinGroup request (versions 0-5, the ones aiokafka sends), else None."""
    api_key, api_version = struct.unpack_from(">hh", request, 0)
    if api_key != JOIN_GROUP or api_version > 5:
        return None
    pos = 8  # api key, api version, correlation id
    (client_id_len,) = struct.unpack_from(">h", request, pos)
    pos += 2 + max(client_id_len, 0)
    (group_len,) = struct.unpack_from(">h", request, pos)
    pos += 2 + group_len + 4  # the group id, the session timeout
    if api_version >= 1:
        pos += 4  # the rebalance timeout
    (member_len,) = struct.unpack_from(">h", request, pos)
    return request[pos + 2 : pos + 2 + member_len].decode()


class KafkaProxy:
    def __init__(self, host: str, listen_port: int, upstream_port: int) -> None:
        self.host = host
        self.listen_port = listen_port
        self.upstream_port = upstream_port
        self.unanswered_members: set[str] = set()
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            broker_r, broker_w = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_w.close()
            return
        pumps = [self._requests(client_r, broker_w), _copy(broker_r, client_w)]
        tasks = [asyncio.create_task(p) for p in pumps]
        self._tasks.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                self._tasks.discard(task)
            for writer in (client_w, broker_w):
                writer.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                size = await reader.readexactly(4)
                request = await reader.readexactly(int.from_bytes(size, "big"))
                if join_group_member(request) in self.unanswered_members:
                    self.dropped += 1
                    continue
                writer.write(size + request)
                await writer.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
