"""Sign a payload the way each vendor does: for the demo traffic generator and endpoint tests.

    headers, body = signed_request("typeform", secret, load_sample("typeform"), now, url)

`headers` use the lower-case names the adapters read, plus `content-type`. The samples live in
`examples/sources/<kind>.json` (see the README there); they are real-shaped, and fictitious.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from services.ingest.sources import calendly, facebook, hubspot, standard, tally, typeform, webflow
from services.ingest.sources.base import JSON

SAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples" / "sources"
DEFAULT_URL = "https://leadrelay.example.com/v1/sources/{kind}/webhooks"


def load_sample(name: str) -> Any:
    """`examples/sources/<name>.json` parsed (`facebook_graph_lead` is the Graph API's answer)."""
    path = SAMPLES_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no sample {path}: samples ship with the source tree, not the wheel")
    return json.loads(path.read_text())


def signed_request(
    kind: str, secret: str, payload: Any, now: datetime, url: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Headers and body as the vendor would send them, signed with `secret` at `now`."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    url = url or DEFAULT_URL.format(kind=kind)
    seconds, millis = str(int(now.timestamp())), str(int(now.timestamp() * 1000))
    headers = {"content-type": JSON}
    if kind == "hubspot":
        headers[hubspot.TIMESTAMP] = millis
        headers[hubspot.SIGNATURE] = hubspot.signature_v3(secret, "POST", url, body, millis)
    elif kind == "typeform":
        headers[typeform.SIGNATURE] = typeform.signature(secret, body)
    elif kind == "tally":
        headers[tally.SIGNATURE] = tally.signature(secret, body)
    elif kind == "webflow":
        headers[webflow.TIMESTAMP] = millis
        headers[webflow.SIGNATURE] = webflow.signature(secret, millis, body)
    elif kind == "calendly":
        headers[calendly.SIGNATURE] = f"t={seconds},v1={calendly.signature(secret, seconds, body)}"
    elif kind == "facebook":
        headers[facebook.SIGNATURE] = facebook.signature(secret, body)
    elif kind == "standard":
        # A stable id per body, as a sender's retry of the same message keeps its id.
        msg_id = "msg_" + base64.b32encode(hashlib.sha256(body).digest()).decode()[:26].lower()
        headers[standard.ID] = msg_id
        headers[standard.TIMESTAMP] = seconds
        headers[standard.SIGNATURE] = standard.sign(secret, msg_id, int(seconds), body)
    else:
        raise ValueError(f"unknown source kind {kind!r}")
    return headers, body
