"""`leadrelay deliver`: the deliverer (webhooks, notifications, CRM write-back) and its API."""

from __future__ import annotations

from services.delivery.bootstrap import bootstrap, create_app
from services.delivery.settings import DeliverySettings
from shared.logging import configure_logging
from shared.runtime import serve


def run() -> None:
    settings = DeliverySettings()
    configure_logging(settings.common.log_level, settings.common.log_format, service="delivery")
    serve(create_app(bootstrap(settings)), settings.host, settings.port)
