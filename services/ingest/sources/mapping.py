"""From a vendor's list of form fields to one canonical `LeadData`.

Each adapter turns its payload into `FormField`s (every name the vendor gives a field, its value,
and a hint when the vendor's field *type* says what it is, e.g. an email-type question). One
resolver then picks the canonical fields in a fixed order of trust:

1. `SourceOptions.field_map` (what ops configured),
2. the vendor's field type (an email question is the email),
3. a well-known label ("Work email", "Company name", HubSpot's `jobtitle`...).

Whatever no canonical field takes is kept in `custom` under the vendor's name for it, so rules can
still read it; a value that does not fit its canonical field (a country spelled out, "51-200"
employees) is kept in `custom` too rather than failing the lead. Only a missing or malformed
email refuses the lead: without it nobody can be routed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from pydantic import ValidationError

from services.ingest.sources.base import MAPPABLE_FIELDS, PayloadError, SourceOptions
from shared.events.models import LeadData

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e mail", "email address", "work email", "business email", "your email"),
    "first_name": ("first name", "firstname", "given name", "forename", "prenom"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "name": ("name", "full name", "fullname", "your name", "contact name"),
    "company": ("company", "company name", "organization", "organisation", "business name"),
    "title": ("title", "job title", "jobtitle", "role", "position"),
    "phone": ("phone", "phone number", "mobile", "mobilephone", "telephone", "mobile phone"),
    "country": ("country", "country code"),
    "employees": ("employees", "numemployees", "company size", "number of employees", "team size"),
    "annual_revenue": ("annual revenue", "annualrevenue", "revenue"),
    "industry": ("industry",),
    "consent": ("consent", "marketing consent", "gdpr consent", "opt in", "marketing opt in"),
}
_BY_LABEL = {label: canonical for canonical, labels in _SYNONYMS.items() for label in labels}
_UTM = re.compile(r"^utm_[a-z]+$")
_TRUE = frozenset({"true", "yes", "y", "1", "on", "accepted", "agree", "agreed", "checked"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "declined", "unchecked"})


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(label: str) -> str:
    return " ".join(_NOT_ALNUM.sub(" ", label.lower()).split())


@lru_cache(maxsize=4096)
def guess(label: str) -> str | None:
    """Cached: a form sends the same field names with every submission, and guessing was a
    third of a webhook delivery's mapping time (bench/ingest.py). Bounded: labels are input."""
    return _BY_LABEL.get(normalize(label))


class FormField(NamedTuple):
    """A named tuple, not a frozen dataclass: a delivery makes one per field, and a frozen
    dataclass's __init__ (an object.__setattr__ per attribute) cost ~1 µs each."""

    ids: tuple[str, ...]  # every name the vendor gives the field (ref, key, id, label): field_map matches any
    name: str  # the key it is kept under in `custom` when no canonical field takes it
    value: Any
    hint: str | None = None  # the canonical field the vendor's field type implies


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when the vendor sent an object there, else empty: payloads are untrusted input."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _utm_key(ids: Iterable[str]) -> str | None:
    for ident in ids:
        key = ident.strip().lower()
        if _UTM.match(key):
            return key
    return None


class Plan(NamedTuple):
    chosen: tuple[tuple[str, int], ...]  # canonical field, index of the field that fills it
    rest: tuple[tuple[int, str | None], ...]  # every other non-empty field: index, its utm_* key if any


Shape = tuple[tuple[tuple[str, ...], str | None, bool], ...]


def _shape(fields: Sequence[FormField]) -> Shape:
    """What a plan depends on: each field's names, type hint and emptiness, never its value."""
    return tuple((f.ids, f.hint, _empty(f.value)) for f in fields)


@lru_cache(maxsize=1024)
def _plan(field_map: tuple[tuple[str, str], ...], shape: Shape) -> Plan:
    """Which field fills which canonical field, and where the others go: a function of the names
    only, so a form that sends the same fields with every submission resolves them once (cached;
    bounded, since names are input). Order of trust: field_map, the vendor's type hint, a label."""
    chosen: dict[str, int] = {}
    used: dict[int, None] = {}  # insertion-ordered set: the indexes in the order taken
    for canonical, key in field_map:
        if canonical not in MAPPABLE_FIELDS:
            continue
        for i, (ids, _, empty) in enumerate(shape):
            if i not in used and key in ids and not empty:
                chosen[canonical] = i
                used[i] = None
                break
    for pick in (lambda ids, hint: hint, lambda ids, hint: next(filter(None, map(guess, ids)), None)):
        for i, (ids, hint, empty) in enumerate(shape):
            picked = pick(ids, hint)
            if picked and picked not in chosen and i not in used and not empty:
                chosen[picked] = i
                used[i] = None
    rest = tuple((i, _utm_key(ids)) for i, (ids, _, empty) in enumerate(shape) if i not in used and not empty)
    return Plan(tuple(chosen.items()), rest)


def assemble(
    fields: Sequence[FormField],
    options: SourceOptions,
    *,
    signals: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> LeadData:
    """One lead from a form's fields; fields named utm_* become `utm`, the rest `custom`."""
    plan = plan_for(options, _shape(fields))
    values = [f.value for f in fields]
    return assemble_planned(values, [f.name for f in fields], plan, options, signals=signals, meta=meta)


def plan_for(options: SourceOptions, shape: Shape) -> Plan:
    """The plan for fields of this shape (`_plan`, cached)."""
    return _plan(tuple(options.field_map.items()), shape)


def assemble_planned(
    values: Sequence[Any],
    names: Sequence[str],
    plan: Plan,
    options: SourceOptions,
    *,
    signals: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> LeadData:
    """`assemble` for an adapter that keeps a form layout's plan itself (standard.py): the plan's
    indexes point into `values`, and `names` gives each value's name in `custom`."""
    chosen = {canonical: values[i] for canonical, i in plan.chosen}
    custom: dict[str, Any] = {}
    utm: dict[str, str] = {}
    for i, utm_key in plan.rest:
        value = values[i]
        if utm_key and isinstance(value, str | int | float):
            utm[utm_key] = str(value)
        else:
            custom[names[i]] = value
    if meta:
        custom.update(meta)
    return build_lead(chosen, options, custom=custom, utm=utm, signals=signals)


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value).strip() or None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value) or None
    return None


def _number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return kind(value)
    if isinstance(value, str):
        try:
            return kind(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def _consent(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):  # a ticked checkbox arrives as the list of ticked labels
        return bool(value)
    text = _text(value)
    if text is None:
        return None
    word = text.lower()
    return True if word in _TRUE else False if word in _FALSE else None


_TEXT = MAPPABLE_FIELDS - {"employees", "annual_revenue", "consent"}  # what `coerce` reads as text


def coerce(canonical: str, value: Any) -> Any:
    if canonical == "employees":
        return _number(value, int)
    if canonical == "annual_revenue":
        return _number(value, float)
    if canonical == "consent":
        return _consent(value)
    return _text(value)


def build_lead(
    chosen: Mapping[str, Any],
    options: SourceOptions,
    *,
    custom: dict[str, Any],
    utm: dict[str, str],
    signals: Iterable[str] = (),
) -> LeadData:
    values: dict[str, Any] = {}
    for canonical, raw in chosen.items():
        # A text answer to a text field, the usual case, without the call (what `_text` gives it).
        coerced = (raw.strip() or None) if type(raw) is str and canonical in _TEXT else coerce(canonical, raw)
        if coerced is None:
            custom.setdefault(canonical, raw)  # kept, not lost: a rule can still read it
        else:
            values[canonical] = coerced
    full_name = values.pop("name", None)
    if full_name and not (values.get("first_name") or values.get("last_name")):
        first, _, last = str(full_name).rpartition(" ")
        values["first_name"], values["last_name"] = (first, last) if first else (last, None)
    values.setdefault("product_line", options.product_line)
    values.setdefault("campaign", utm.get("utm_campaign") or options.campaign)
    if not values.get("email"):
        raise PayloadError("email", "no email address in the payload; map one with field_map.email")
    data = {**values, "utm": utm, "signals": list(dict.fromkeys(signals)), "custom": custom}
    try:
        return LeadData.model_validate(data)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if "email" in bad:
            raise PayloadError("email", "not an email address like name@example.com") from exc
        if not bad <= set(values):
            raise PayloadError(", ".join(sorted(bad)), "cannot be mapped") from exc
        for name in bad:  # a value that does not fit (a spelled-out country): keep it in custom
            custom.setdefault(name, values.pop(name))
        return LeadData.model_validate({**values, **{k: data[k] for k in ("utm", "signals", "custom")}})


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with Z or +0000), or epoch seconds / milliseconds as number or digits."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
