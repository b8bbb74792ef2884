"""The mapping plan cache (services/ingest/sources/mapping.py `_plan`): a form's field *names* are
resolved once, and every delivery still gets exactly what resolving it afresh would give.

The reference below is the resolver as it was before the cache (every delivery resolved field by
field); hypothesis draws forms of well-known and unknown labels, type hints, empty answers and
field maps, and the cached path must pick the same fields, keep the same custom and utm values,
and never carry one delivery's values into another's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.sources import PayloadError, SourceOptions
from services.ingest.sources.base import MAPPABLE_FIELDS
from services.ingest.sources.mapping import FormField, _empty, _utm_key, assemble, build_lead, guess

pytestmark = pytest.mark.unit


def reference_assemble(fields: Sequence[FormField], options: SourceOptions) -> Any:
    """Field by field, per delivery, with no cache (the resolver before the plan cache)."""
    field_map: Mapping[str, str] = options.field_map
    chosen: dict[str, Any] = {}
    used: set[int] = set()
    for canonical, key in field_map.items():
        if canonical not in MAPPABLE_FIELDS:
            continue
        for i, f in enumerate(fields):
            if i not in used and key in f.ids and not _empty(f.value):
                chosen[canonical] = f.value
                used.add(i)
                break
    for pick in (lambda f: f.hint, lambda f: next(filter(None, map(guess, f.ids)), None)):
        for i, f in enumerate(fields):
            picked = pick(f)
            if picked and picked not in chosen and i not in used and not _empty(f.value):
                chosen[picked] = f.value
                used.add(i)
    custom: dict[str, Any] = {}
    utm: dict[str, str] = {}
    for i, f in enumerate(fields):
        if i in used or _empty(f.value):
            continue
        utm_key = _utm_key(f.ids)
        if utm_key and isinstance(f.value, str | int | float):
            utm[utm_key] = str(f.value)
        else:
            custom[f.name] = f.value
    return build_lead(chosen, options, custom=custom, utm=utm)


LABELS = [
    "Work email",
    "email",
    "First name",
    "surname",
    "Company",
    "job title",
    "Phone",
    "country",
    "Company size",
    "revenue",
    "consent",
    "utm_source",
    "utm_campaign",
    "budget",
    "notes",
    "q1",
]
HINTS = [None, None, None, "email", "company", "phone", "title"]
VALUES = st.one_of(
    st.sampled_from(["", "ada@northwind.example", "Ada", "120", "1,200", "US", "yes", "  "]),
    st.integers(-5, 5000),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
FIELD = st.builds(
    lambda labels, value, hint: FormField(tuple(labels), labels[0], value, hint),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=2, unique=True),
    VALUES,
    st.sampled_from(HINTS),
)
FIELD_MAP = st.dictionaries(st.sampled_from(sorted(MAPPABLE_FIELDS)), st.sampled_from(LABELS), max_size=3)


def outcome(build: Any) -> Any:
    try:
        return build().model_dump()
    except PayloadError as exc:
        return ("refused", exc.field, exc.reason)


@settings(max_examples=400, deadline=None)
@given(fields=st.lists(FIELD, max_size=8), field_map=FIELD_MAP)
def test_the_cached_plan_maps_every_delivery_as_resolving_it_afresh_would(
    fields: list[FormField], field_map: dict[str, str]
) -> None:
    options = SourceOptions(field_map=field_map)
    expected = outcome(lambda: reference_assemble(fields, options))
    assert outcome(lambda: assemble(fields, options)) == expected
    assert outcome(lambda: assemble(fields, options)) == expected  # now from the cache


def test_two_deliveries_of_one_form_share_a_plan_but_never_values() -> None:
    def form(email: str, company: str, source: str) -> list[FormField]:
        return [
            FormField(("Work email",), "Work email", email),
            FormField(("Company name",), "Company name", company),
            FormField(("utm_source",), "utm_source", source),
            FormField(("Budget",), "Budget", "10k"),
        ]

    first = assemble(form("ada@northwind.example", "Northwind", "google"), SourceOptions())
    second = assemble(form("lin@contoso.example", "Contoso", "partner"), SourceOptions())
    assert (first.email, first.company, first.utm, first.custom) == (
        "ada@northwind.example",
        "Northwind",
        {"utm_source": "google"},
        {"Budget": "10k"},
    )
    assert (second.email, second.company, second.utm) == (
        "lin@contoso.example",
        "Contoso",
        {"utm_source": "partner"},
    )


def test_an_answer_left_empty_changes_the_plan() -> None:
    """Emptiness is part of the plan's key: an empty work email lets the next email field fill it."""

    def form(work: str) -> list[FormField]:
        return [
            FormField(("Work email",), "Work email", work),
            FormField(("Your email",), "Your email", "home@example.com"),
        ]

    assert assemble(form("ada@northwind.example"), SourceOptions()).email == "ada@northwind.example"
    assert assemble(form(""), SourceOptions()).email == "home@example.com"
