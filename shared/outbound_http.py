"""What every outbound HTTP client shares (webhook endpoints, CRMs, Slack, the Graph API)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle loaded once per process. Each `httpx.AsyncClient` loads its own otherwise, ~20 ms
    of CPU a client (measured), and a service builds one per endpoint, per CRM, per lead-ads source.
    Honours SSL_CERT_FILE / SSL_CERT_DIR as httpx does; read on first use."""
    return httpx.create_ssl_context()
