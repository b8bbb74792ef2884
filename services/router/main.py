"""`leadrelay router`: the routing consumer, with /healthz, /readyz and /metrics on its port."""

from __future__ import annotations

from services.router.bootstrap import bootstrap, create_app
from services.router.settings import RouterSettings
from shared.logging import configure_logging
from shared.runtime import serve


def run() -> None:
    settings = RouterSettings()
    configure_logging(settings.common.log_level, settings.common.log_format, service="router")
    service = bootstrap(settings)
    serve(create_app(service), settings.host, settings.port)
