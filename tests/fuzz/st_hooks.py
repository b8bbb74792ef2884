"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS).

A fuzzer that reuses one Idempotency-Key with two different bodies gets the documented 422
(that contract has its own tests); a fresh key per generated request keeps the fuzzer on the
paths it is here to explore.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    # map_case runs in every phase (coverage included), unlike the per-part hooks.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    return case
