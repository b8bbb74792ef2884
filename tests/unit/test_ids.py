"""The hand-formatted ids are the uuid module's, character for character."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.events.ids import new_event_id, random_id, stable_id

pytestmark = pytest.mark.unit


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_stable_id_is_uuid5_of_the_parts(parts: list[str]) -> None:
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, "leadrelay:" + ":".join(parts)))
    assert stable_id(*parts) == expected


def test_a_known_stable_id() -> None:
    # Fixed for good: ids already on topics and in databases were minted by uuid.uuid5.
    assert stable_id("event", "api", "lead", "form-42") == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "leadrelay:event:api:lead:form-42")
    )


def test_random_ids_are_version_4_rfc_4122_and_distinct() -> None:
    ids = [random_id() for _ in range(5000)] + [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)
