"""Standard Webhooks signing (https://www.standardwebhooks.com), with the `standardwebhooks` library.

`webhook-id` is the CloudEvent id, the same on every retry, so a receiver deduplicates on it.
`webhook-timestamp` is the time of this attempt. During a rotation both secrets sign: the header
carries two `v1,<base64>` signatures separated by a space, and a receiver holding either verifies.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime

from standardwebhooks import Webhook


class MissingSecret(ValueError):
    """An endpoint's secret variable is unset (outside dev)."""


class Signer:
    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise MissingSecret("a signer needs at least one secret")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def headers(self, msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
        text = body.decode()
        signatures = " ".join(w.sign(msg_id=msg_id, timestamp=timestamp, data=text) for w in self._webhooks)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signatures,
        }


def dev_secret(endpoint: str) -> str:
    """A stable secret for an endpoint in dev when its variable is unset (never outside dev)."""
    raw = hashlib.sha256(f"leadrelay-dev-delivery:{endpoint}".encode()).digest()
    return "whsec_" + base64.b64encode(raw).decode()


def secrets_from_env(endpoint: str, names: list[str], *, dev: bool) -> list[str]:
    values = [os.environ[name] for name in names if os.environ.get(name)]
    if values:
        return values
    if dev:
        return [dev_secret(endpoint)]
    raise MissingSecret(
        f"delivery endpoint {endpoint!r}: set {' or '.join(names)} to its whsec_ secret "
        "(both, during a rotation)"
    )
