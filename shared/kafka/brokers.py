"""The brokers a developer can start on this machine, behind one interface.

`embedded` (Tansu, in-memory, pure Python install) is the default; `kafka` is Apache Kafka
from Maven Central jars, run by Java. Production uses neither: it points
LEADRELAY_KAFKA_BOOTSTRAP at a real cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from shared.kafka.apache import ApacheKafkaBroker
from shared.kafka.embedded import EmbeddedBroker

BrokerKind = Literal["embedded", "kafka"]
BROKER_KINDS: tuple[BrokerKind, ...] = ("embedded", "kafka")


class Broker(Protocol):
    kind: str
    description: str

    @property
    def log_path(self) -> Path | None: ...

    @property
    def bootstrap(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self, timeout_s: float = ...) -> None: ...

    def stop(self, timeout_s: float = ...) -> None: ...

    def kill(self) -> None: ...


def create_broker(kind: BrokerKind, *, port: int | None = None, log_path: Path | None = None) -> Broker:
    """A broker of that kind, not started yet. For `kafka`, Java and the jars are checked at start()."""
    if kind == "kafka":
        return ApacheKafkaBroker(port=port, log_path=log_path)
    return EmbeddedBroker(port=port, log_path=log_path)
