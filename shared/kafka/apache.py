"""Apache Kafka as a child process: one KRaft node (broker + controller) on free ports, its own data dir.

The same interface as `EmbeddedBroker` (start / stop / kill, `bootstrap`, `pid`, `log_path`), so
the tests, the bench and `leadrelay up --broker kafka` swap one for the other. The jars come from
Maven Central (`shared/kafka/jars.py`, `make kafka-jars`); Java 17+ runs them.

Sized for a 2-core development machine: a 512 MB heap, serial GC, two network and I/O threads,
replication factors of 1 and one partition for the internal topics (which are created on first
use, and 50 partitions of `__consumer_offsets` cost seconds on the first group).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import secrets
import shutil
import tempfile
from pathlib import Path

from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.errors import KafkaError

from shared.kafka.jars import KAFKA_VERSION, java_binary, require_jars
from shared.kafka.process import ChildProcess, free_port, port_open
from shared.logging import get_logger

log = get_logger(__name__)

_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
# One INFO line that says the server is up (or why not), without Kafka's full config dump.
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
"""


def _cluster_id() -> str:
    """A Kafka Uuid in its base64 form (what `kafka-storage random-uuid` prints), without a JVM."""
    while True:
        text = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka never hands out ids that read as a command-line flag
            return text


class ApacheKafkaBroker:
    kind = "kafka"
    description = f"Apache Kafka {KAFKA_VERSION} (KRaft, one node)"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        data_dir: Path | None = None,
        heap_mb: int = 512,
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.heap_mb = heap_mb
        # A data dir of our own is removed on a clean stop; a caller's is kept (it may restart on it).
        self._own_data = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="leadrelay-kafka-"))
        # The formatted metadata log records the controller's endpoint: a restart on kept data must
        # listen where it did, so the port is remembered next to the data.
        remembered = self.data_dir / "controller.port"
        previous = int(remembered.read_text()) if remembered.exists() else None
        self.controller_port = previous if previous and not port_open(host, previous) else free_port()
        # Never DEVNULL: when the JVM refuses to start, its output is the only explanation.
        self.log_path = log_path or self.data_dir / "kafka.log"
        self._child: ChildProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    def _write_config(self) -> Path:
        listeners = f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": listeners,
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.quorum.bootstrap.servers": f"{self.host}:{self.controller_port}",
            "log.dirs": str(self.data_dir / "log"),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",  # a lone consumer gets its partitions at once
            # A single-node dev and test broker: a 2 s session is allowed (Kafka's floor is 6 s),
            # so crash tests see a killed consumer's partitions handed over sooner.
            "group.min.session.timeout.ms": "1000",
            "auto.create.topics.enable": "false",  # as in docker-compose.yml: services create their topics
            "num.network.threads": "2",
            "num.io.threads": "2",
            "background.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
        }
        config = self.data_dir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2)
        return config

    def _java(self, main_class: str, *args: str) -> list[str]:
        jars = require_jars()
        return [
            java_binary(),
            f"-Xmx{self.heap_mb}m",
            "-Xms64m",
            "-XX:+UseSerialGC",  # one GC thread: the machine's cores are for the services
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            f"{jars}/*",
            main_class,
            *args,
        ]

    def _format(self, config: Path) -> None:
        if (self.data_dir / "log" / "meta.properties").exists():
            return  # formatted before: a restart keeps its data, as a real broker's does
        fmt = ChildProcess(
            "kafka-storage format",
            self._java(
                "kafka.tools.StorageTool", "format", "--standalone", "-t", _cluster_id(), "-c", str(config)
            ),
            log_path=self.log_path,
        )
        fmt.start()
        if (code := fmt.wait(60)) != 0:
            raise RuntimeError(f"formatting Kafka's storage failed (exit {code}); see {self.log_path}")

    def start(self, timeout_s: float = 60.0) -> None:
        for port in (self.port, self.controller_port):
            if port_open(self.host, port):
                raise RuntimeError(f"port {port} is already in use; stop what is listening there")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "controller.port").write_text(str(self.controller_port))
        config = self._write_config()
        self._format(config)
        # die_with_parent: a test run or `leadrelay up` killed with SIGKILL must not leave a JVM behind.
        argv = self._java("kafka.Kafka", str(config))
        child = ChildProcess("Apache Kafka", argv, log_path=self.log_path, die_with_parent=True)
        child.start()
        self._child = child
        try:
            child.wait_until(
                lambda: port_open(self.host, self.port), timeout_s, f"listening on {self.bootstrap}"
            )
            child.wait_until(self._serves_groups, timeout_s, "answering metadata and group lookups")
        except RuntimeError:
            self._stop_child(child, 10.0)  # the log stays where it is, for whoever reads the error
            self._child = None
            raise
        log.info("kafka_broker_ready", bootstrap=self.bootstrap, pid=child.pid, version=KAFKA_VERSION)

    def _serves_groups(self) -> bool:
        """Metadata lists this node, and a group coordinator is found (`__consumer_offsets` exists)."""
        # Run on a thread of its own: start() may be called from inside a running event loop.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._probe()).result()

    async def _probe(self) -> bool:
        client = AIOKafkaClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        try:
            await client.bootstrap()
            if not client.cluster.brokers():
                return False
            await client.coordinator_lookup(CoordinationType.GROUP, "leadrelay-readiness")
            return True
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            await client.close()

    @staticmethod
    def _stop_child(child: ChildProcess, timeout_s: float) -> None:
        child.stop(timeout_s)  # SIGTERM: a controlled shutdown; SIGKILL if it takes longer

    def stop(self, timeout_s: float = 20.0) -> None:
        child, self._child = self._child, None
        if child is not None:
            self._stop_child(child, timeout_s)
        if self._own_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would; the data dir stays, so start() recovers from it."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
