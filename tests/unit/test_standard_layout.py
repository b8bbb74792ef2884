"""The standard adapter's layout cache (services/ingest/sources/standard.py `_Layout`): a delivery's
values read by position, with the plan kept per form layout and emptiness pattern, map every
delivery exactly as building its `FormField`s and assembling them afresh would.

The reference below is the adapter's mapping as it was before the cache (one `FormField` per
mapped path, per key of the scanned object and per entry of a `utm` object, then `assemble`).
Hypothesis draws nested and flat bodies with well-known, unknown and utm_* keys, empty answers,
field maps into the scanned object and elsewhere, and `utm` objects."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_json

from services.ingest.sources import PayloadError, SourceOptions
from services.ingest.sources.base import MAPPABLE_FIELDS, InboundRequest
from services.ingest.sources.mapping import FormField, assemble
from services.ingest.sources.standard import StandardAdapter, _get, _reader

pytestmark = pytest.mark.unit

KEYS = ["email", "Work email", "first_name", "Company", "job_title", "country", "employees", "consent"]
KEYS += ["utm_source", "utm_campaign", "budget", "notes", "q1", "name"]
VALUES = st.one_of(
    st.sampled_from(
        ["", "ada@northwind.example", "Ada Novak", "120", "US", "yes", "  ", "lin@contoso.example"]
    ),
    st.integers(-5, 5000),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
    st.just({}),
)
PATHS = [f"data.{k}" for k in KEYS] + KEYS + ["extra.company", "data.nested.email", "items.0.company"]
FIELD_MAP = st.dictionaries(st.sampled_from(sorted(MAPPABLE_FIELDS)), st.sampled_from(PATHS), max_size=4)


def reference_map(body: dict[str, Any], options: SourceOptions) -> Any:
    """The fields as the adapter built them per delivery before the layout cache."""
    reader = _reader(tuple(options.field_map.items()))
    data = body.get("data")
    scanned: dict[str, Any] = data if isinstance(data, dict) else body
    prefix = "data." if scanned is not body else ""
    fields = [FormField((path,), path, _get(body, parts)) for path, parts in reader.mapped]
    fields += [
        FormField((key, prefix + key), key, value)
        for key, value in scanned.items()
        if prefix + key not in reader.mapped_paths and key not in reader.named
    ]
    utm = _get(body, reader.utm) if reader.utm else None
    if isinstance(utm, dict):
        fields += [FormField((str(k),), str(k), v) for k, v in utm.items()]
    return assemble(fields, options)


def outcome(build: Any) -> Any:
    try:
        return build().model_dump()
    except PayloadError as exc:
        return ("refused", exc.field, exc.reason)


def adapter_map(body: dict[str, Any], options: SourceOptions) -> Any:
    request = InboundRequest("POST", "", {"webhook-id": "msg_1"}, to_json(body), "application/json")
    return StandardAdapter().map(request, options)[0].lead


@settings(max_examples=400, deadline=None)
@given(
    answers=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=9),
    nested=st.booleans(),
    extra=st.dictionaries(st.sampled_from(["company", "email"]), VALUES, max_size=2),
    utm=st.none() | st.dictionaries(st.sampled_from(["utm_medium", "utm_term", "ref"]), VALUES, max_size=2),
    field_map=FIELD_MAP,
    utm_path=st.booleans(),
)
def test_the_layout_maps_every_delivery_as_assembling_its_fields_afresh_would(
    answers: dict[str, Any],
    nested: bool,
    extra: dict[str, Any],
    utm: dict[str, Any] | None,
    field_map: dict[str, str],
    utm_path: bool,
) -> None:
    body: dict[str, Any] = {"data": answers} if nested else dict(answers)
    body["extra"] = extra
    if utm is not None:
        body["tracking"] = utm
    options = SourceOptions(field_map={**field_map, **({"utm": "tracking"} if utm_path else {})})
    expected = outcome(lambda: reference_map(body, options))
    assert outcome(lambda: adapter_map(body, options)) == expected
    assert outcome(lambda: adapter_map(body, options)) == expected  # now from the cached layout


def test_two_deliveries_of_one_layout_share_a_plan_but_never_values() -> None:
    options = SourceOptions(field_map={"email": "data.email", "title": "data.job_title"})
    first = {
        "data": {
            "email": "ada@northwind.example",
            "job_title": "CTO",
            "utm_source": "google",
            "budget": "10k",
        }
    }
    second = {
        "data": {"email": "lin@contoso.example", "job_title": "", "utm_source": "partner", "budget": "5k"}
    }
    a, b = adapter_map(first, options), adapter_map(second, options)
    assert (a.email, a.title, a.utm, a.custom) == (
        "ada@northwind.example",
        "CTO",
        {"utm_source": "google"},
        {"budget": "10k"},
    )
    # The empty title is another emptiness pattern: not mapped, not kept.
    assert (b.email, b.title, b.utm, b.custom) == (
        "lin@contoso.example",
        None,
        {"utm_source": "partner"},
        {"budget": "5k"},
    )
