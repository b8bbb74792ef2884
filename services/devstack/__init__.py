"""The dev stack: brokers and LeadRelay services as child processes, on this machine.

One implementation of start / ready / stop, used by `leadrelay up`, the end-to-end tests and
the benchmark:

- `shared.kafka.process.ChildProcess`: a child in its own process group, its log, stop = SIGTERM
  then SIGKILL (brokers use it too);
- `services.devstack.processes`: a service (`python -m services <name>`) on a port, readiness by
  `/readyz`, environments for isolated runs;
- `services.devstack.stack.Stack`: the `leadrelay up` supervisor (broker, SQLite, the three services).
"""

from services.devstack.processes import (
    ROOT,
    ServiceProcess,
    clean_env,
    service_env,
    start_service,
    stop_all,
    wait_ready,
)
from services.devstack.stack import SERVICES, Stack
from shared.kafka.brokers import Broker, BrokerKind, create_broker
from shared.kafka.process import ChildProcess, free_port, port_open

__all__ = [
    "ROOT",
    "SERVICES",
    "Broker",
    "BrokerKind",
    "ChildProcess",
    "ServiceProcess",
    "Stack",
    "clean_env",
    "create_broker",
    "free_port",
    "port_open",
    "service_env",
    "start_service",
    "stop_all",
    "wait_ready",
]
