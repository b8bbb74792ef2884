"""Erasing one person from stored data: which fields are personal, and scrubbing them anywhere.

Pure functions, shared by every service's erasure (services/*/erasure): they get the person's
values (email, names, phone, company, title) from the copy they hold, and scrub them out of
whatever else they stored about that lead (decision records, event bodies, error texts).

Two layers, because structure alone misses copies and values alone miss structure:
- the canonical lead's personal fields are replaced by field name (`erase_lead_fields`): the
  email by a pseudonym that still validates as an email (stored events must still parse), the rest
  removed;
- then every string left is scrubbed of the person's values, as whole words, case-insensitively,
  plus anything shaped like an email address (`scrub`), so a copy inside a reason message or an
  identity key (`email:ada@...`, `phone:1555...`) goes too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

ERASED = "[erased]"
PSEUDONYM_DOMAIN = "erased.invalid"  # RFC 2606: never a real mailbox
# The canonical lead's fields that identify a person (shared/events/models.py LeadData). The rest
# (country, employees, industry, campaign, product line, signals) describes the company and the
# marketing that brought the lead, and is what reports count by, so it stays.
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "company", "title", "custom")
_EMAIL_LIKE = re.compile(r"[^\s@\"'<>(),;:\[\]]+@[^\s@\"'<>(),;:\[\]]+\.[A-Za-z]{2,}")
_ENVELOPE = frozenset(
    {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "schemaversion",
        "traceparent",
    }
)
_MIN_LENGTH = 2  # a one-letter "name" would scrub every word that has that letter


def pseudonym_email(erasure_id: str) -> str:
    """What an erased lead's email becomes: unique per erasure, says nothing about the person."""
    token = re.sub(r"[^a-z0-9]", "", erasure_id.lower())[:16] or "x"
    return f"erased-{token}@{PSEUDONYM_DOMAIN}"


def personal_values(fields: Mapping[str, Any]) -> set[str]:
    """The strings to scrub for a person, from a canonical lead (or a merged profile) as JSON."""
    values: set[str] = set()
    for name in ("email", "first_name", "last_name", "phone", "company", "title"):
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            values.add(value.strip())
    first, last = fields.get("first_name"), fields.get("last_name")
    if isinstance(first, str) and isinstance(last, str):
        values.add(f"{first.strip()} {last.strip()}")
    email = fields.get("email")
    if isinstance(email, str) and "@" in email:
        local, _, domain = email.strip().lower().partition("@")
        values.add(f"{local.split('+', 1)[0]}@{domain}")  # the router's normalised identity
        values.add(f"{local.split('+', 1)[0].replace('.', '')}@{domain}")
    phone = fields.get("phone")
    if isinstance(phone, str):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 7:
            values.add(digits)  # the router's `phone:<digits>` identity
    return {v for v in values if len(v) >= _MIN_LENGTH and not v.endswith(f"@{PSEUDONYM_DOMAIN}")}


def erase_lead_fields(fields: Mapping[str, Any], pseudonym: str) -> dict[str, Any]:
    """A canonical lead (JSON form) without its personal fields; the email becomes `pseudonym`."""
    kept = {k: v for k, v in fields.items() if k not in PERSONAL_FIELDS}
    if "email" in fields:
        kept["email"] = pseudonym
    if "custom" in fields:
        kept["custom"] = {}  # free-form: anything could be in there
    return kept


class Scrubber:
    """Replaces the person's values, and anything shaped like an email, in any JSON value."""

    def __init__(self, values: Collection[str]) -> None:
        words = sorted({v for v in values if len(v) >= _MIN_LENGTH}, key=len, reverse=True)
        self._values = (
            re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in words), re.IGNORECASE)
            if words
            else None
        )

    def text(self, value: str) -> str:
        if self._values is not None:
            value = self._values.sub(ERASED, value)
        return _EMAIL_LIKE.sub(_keep_pseudonyms, value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value


def _keep_pseudonyms(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found.lower().endswith(f"@{PSEUDONYM_DOMAIN}") else ERASED


def scrub(value: Any, values: Collection[str]) -> Any:
    return Scrubber(values)(value)


def erase_event(raw: bytes, values: Collection[str], pseudonym: str) -> bytes:
    """A stored CloudEvent (JSON bytes) with the person erased; still a valid event of its type.

    The captured lead (`data.lead`) loses its personal fields by name, then every string is
    scrubbed. Bytes that are not JSON are replaced whole: nothing can be told apart in them."""
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return json.dumps({"erased": True}).encode()
    if isinstance(event, dict):
        data = event.get("data")
        if isinstance(data, dict) and isinstance(data.get("lead"), dict):
            lead = data["lead"]
            values = {*values, *personal_values(lead)}
            event["data"] = {**data, "lead": erase_lead_fields(lead, pseudonym)}
    if not isinstance(event, dict):
        return json.dumps(Scrubber(values)(event), separators=(",", ":")).encode()
    scrubber = Scrubber(values)
    # The envelope's own attributes (id, subject = lead id = Kafka key, type, time) stay as they
    # are: they identify the event, and a consumer must still be able to read and key it.
    erased = {k: v if k in _ENVELOPE else scrubber(v) for k, v in event.items()}
    return json.dumps(erased, separators=(",", ":")).encode()
