"""`leadrelay metrics`: the stage consumer plus the reporting API and dashboard."""

from __future__ import annotations

from services.metrics.bootstrap import bootstrap, create_app, load_report_config
from services.metrics.settings import MetricsSettings
from shared.logging import configure_logging
from shared.runtime import serve


def run() -> None:
    settings = MetricsSettings()
    configure_logging(settings.common.log_level, settings.common.log_format, service="metrics")
    serve(create_app(bootstrap(settings), load_report_config(settings)), settings.host, settings.port)
