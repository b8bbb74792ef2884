"""What the consumer loop hands its handlers: records free of client-library types, and the handler
signatures (so handlers and their tests need no aiokafka)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field


class PermanentError(Exception):
    """This message can never be processed as it is: dead-letter it without retrying."""


@dataclass(frozen=True)
class Delivery:
    """One consumed record, free of client-library types so handlers stay testable."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)


Handler = Callable[[Delivery], Awaitable[None]]
# Optional: a handler for several records of one partition at once, in offset order, that makes
# their effects durable together (one transaction). If it raises, the loop processes the same
# records one by one with `Handler`, so retries and dead-lettering work as without it.
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]
TransientCheck = Callable[[BaseException], bool]
