"""Stable ids: the same input always names the same event, so a retry or a reprocessing can never
mint a new one (consumers deduplicate on the CloudEvent id).

Both are formatted straight from the digest or the random bytes: `str(uuid.uuid5(...))` and
`str(uuid.uuid4())` build a UUID object (an int conversion and a validation) only to print it,
which was ~40% of an id's cost on the ingest hot path (two ids a request). The strings are the
uuid module's, character for character (tests/unit/test_ids.py).
"""

from __future__ import annotations

import hashlib
import os
import uuid

_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes
# The RFC 4122 variant in the first hex digit of the fourth group: 10xx.
_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}


def _format(hex32: str, version: str) -> str:
    h = hex32
    return f"{h[:8]}-{h[8:12]}-{version}{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def stable_id(*parts: str) -> str:
    """A UUIDv5 of the parts; the parts must include everything that makes the thing unique."""
    name = ("leadrelay:" + ":".join(parts)).encode()
    return _format(hashlib.sha1(_URL_NAMESPACE + name, usedforsecurity=False).hexdigest(), "5")


def random_id() -> str:
    """A random UUIDv4, as `str(uuid.uuid4())`."""
    return _format(os.urandom(16).hex(), "4")


def new_event_id() -> str:
    return random_id()
