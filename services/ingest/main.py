"""`leadrelay ingest`: the webhook and API front door."""

from __future__ import annotations

from services.ingest.bootstrap import bootstrap, create_app
from services.ingest.settings import IngestSettings
from shared.logging import configure_logging
from shared.runtime import serve


def run() -> None:
    settings = IngestSettings()
    configure_logging(settings.common.log_level, settings.common.log_format, service="ingest")
    serve(create_app(bootstrap(settings)), settings.host, settings.port)
