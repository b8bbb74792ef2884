"""Form-source mapping: each vendor's real-shaped sample becomes the canonical lead it describes;
what the lead has no field for is kept in `custom`; only a missing email refuses a payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.ingest.sources import InboundRequest, MappedLead, PayloadError, SourceOptions, build_adapter
from services.ingest.sources.facebook import lead_fields, leadgen_refs
from services.ingest.sources.mapping import assemble
from services.ingest.sources.samples import load_sample

pytestmark = pytest.mark.unit


def request(
    body: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRequest("POST", "https://x.example/hook", headers or {}, raw, content_type, {})


def mapped(kind: str, body: Any = None, options: SourceOptions | None = None, **kw: Any) -> list[MappedLead]:
    payload = load_sample(kind) if body is None else body
    return build_adapter(kind).map(request(payload, **kw), options or SourceOptions())


def one(kind: str, body: Any = None, options: SourceOptions | None = None, **kw: Any) -> MappedLead:
    leads = mapped(kind, body, options, **kw)
    assert len(leads) == 1
    return leads[0]


def test_hubspot_contact_from_property_change_events() -> None:
    m = one("hubspot")
    assert (m.delivery_id, m.lead_id) == ("1749302212", "hubspot:123451")
    assert m.occurred_at == datetime(2025, 11, 24, 8, 0, 0, 125000, tzinfo=UTC)
    lead = m.lead
    assert (lead.email, lead.first_name, lead.last_name) == (
        "maria.garcia@acme-robotics.com",
        "Maria",
        "Garcia",
    )
    assert (lead.company, lead.title) == ("Acme Robotics", "VP Operations")
    assert lead.custom == {"hubspot_portal_id": 62515, "hubspot_object_id": "123451"}


def test_hubspot_batch_without_any_email_names_it() -> None:
    creation_only = [e for e in load_sample("hubspot") if e["subscriptionType"] == "contact.creation"]
    with pytest.raises(PayloadError) as caught:
        mapped("hubspot", creation_only)
    assert caught.value.field == "email"


def test_hubspot_maps_the_contacts_it_can_and_ignores_other_objects() -> None:
    events = [
        *load_sample("hubspot"),
        {"eventId": 9, "subscriptionType": "contact.creation", "objectId": 777, "occurredAt": 1},
        {"eventId": 10, "subscriptionType": "deal.creation", "objectId": 5, "occurredAt": 1},
    ]
    assert [m.lead_id for m in mapped("hubspot", events)] == ["hubspot:123451"]
    assert mapped("hubspot", [{"eventId": 1, "subscriptionType": "contact.deletion", "objectId": 1}]) == []


def test_typeform_answers_hidden_fields_and_score() -> None:
    m = one("typeform")
    assert (m.delivery_id, m.lead_id) == (
        "01JDQ8Z3W4X5Y6Z7A8B9C0D1E2",
        "typeform:a3a12ec67a1365927098a606107fac15",
    )
    assert m.occurred_at == datetime(2025, 11, 24, 8, 2, 40, tzinfo=UTC)
    lead = m.lead
    assert lead.email == "laura.chen@northwind-logistics.com"  # the email-type answer
    assert (lead.first_name, lead.last_name, lead.company) == ("Laura", "Chen", "Northwind Logistics")
    assert (lead.phone, lead.consent) == ("+14155550134", True)
    assert lead.utm == {
        "utm_source": "linkedin",
        "utm_medium": "paid_social",
        "utm_campaign": "q4-ops-automation",
    }
    assert lead.campaign == "q4-ops-automation"
    assert lead.custom["score"] == 42
    assert lead.custom["products"] == ["Routing", "SLA clocks"]
    assert lead.custom["employees"] == "201-500"  # a range does not fit an integer: kept, not lost
    assert lead.employees is None


def test_typeform_field_map_by_ref_wins_over_guesses() -> None:
    options = SourceOptions(field_map={"title": "company_size", "company": "first_name"})
    lead = one("typeform", options=options).lead
    assert (lead.title, lead.company) == ("201-500", "Laura")


def test_typeform_other_events_map_to_nothing() -> None:
    assert mapped("typeform", {"event_id": "x", "event_type": "form_partial_response"}) == []


def test_tally_fields_by_type_label_and_options() -> None:
    m = one("tally")
    assert (m.delivery_id, m.lead_id) == ("a4cb511e-d513-4fa5-baee-b815d718dfd1", "tally:2wgx4n")
    lead = m.lead
    assert lead.email == "tomasz.nowak@vistula-energy.pl"
    assert (lead.first_name, lead.last_name) == ("Tomasz", "Nowak")  # "Full name" split
    assert (lead.company, lead.phone, lead.country, lead.employees) == (
        "Vistula Energy",
        "+48221234567",
        "PL",
        85,
    )
    assert lead.utm == {"utm_source": "google", "utm_campaign": "emea-energy"}
    assert lead.custom["What do you want to automate?"] == "Lead routing"  # option id resolved


def test_tally_field_map_by_key() -> None:
    options = SourceOptions(field_map={"industry": "question_Yq9Mz2"})
    assert one("tally", options=options).lead.industry == "Lead routing"


def test_webflow_form_submission() -> None:
    m = one("webflow")
    assert (m.delivery_id, m.lead_id) == ("6321ca84df3949bfc6752327", "webflow:6321ca84df3949bfc6752327")
    lead = m.lead
    assert (lead.email, lead.first_name, lead.last_name) == ("zaphod@heartofgold.ai", "Zaphod", "Beeblebrox")
    assert (lead.phone, lead.company, lead.country) == ("15550000000", "Heart of Gold Inc", "US")
    assert lead.utm == {"utm_source": "newsletter"}
    assert lead.custom["Message"] == "We need round robin across two teams."
    assert lead.custom["webflow_form_name"] == "Contact Sales"


def test_calendly_booking_is_a_meeting_booked_signal() -> None:
    m = one("calendly")
    assert m.lead_id == "calendly:7c3f6b42-45d8-4b7a-9c3e-9a4f1b2c3d4e"
    assert m.delivery_id.endswith("/invitees/7c3f6b42-45d8-4b7a-9c3e-9a4f1b2c3d4e")
    lead = m.lead
    assert lead.signals == ["meeting_booked"]
    assert (lead.email, lead.first_name, lead.last_name) == (
        "amara.okafor@lagos-fintech.ng",
        "Amara",
        "Okafor",
    )
    assert (lead.company, lead.title, lead.phone) == (
        "Lagos Fintech",
        "Head of Revenue Operations",
        "+2348012345678",
    )
    assert lead.utm == {"utm_campaign": "africa-expansion", "utm_source": "website", "utm_medium": "cta"}
    assert lead.custom["meeting_start"] == "2025-11-26T14:00:00.000000Z"


def test_calendly_cancellation_maps_to_nothing() -> None:
    assert mapped("calendly", {**load_sample("calendly"), "event": "invitee.canceled"}) == []


def test_standard_default_mapping_reads_data() -> None:
    headers = {"webhook-id": "msg_1"}
    m = one("standard", headers=headers)
    assert (m.delivery_id, m.lead_id) == ("msg_1", None)
    assert m.occurred_at == datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
    lead = m.lead
    assert (lead.email, lead.title, lead.country, lead.employees) == (
        "priya.raman@tessellate.io",
        "CTO",
        "IN",
        120,
    )
    assert lead.utm == {"utm_source": "partner", "utm_campaign": "apac-partners"}
    assert lead.custom == {"submission_id": "sub_01JDQB6M3T", "budget": "50k-100k"}


def test_standard_dotted_paths_and_envelope_fields() -> None:
    body = {
        "event": {"at": 1763985600000, "id": "evt-9"},
        "contact": {"emails": ["Ops@Example.COM"], "org": {"name": "Example"}},
        "tags": ["demo_request"],
        "tracking": {"utm_medium": "cpc"},
    }
    options = SourceOptions(
        field_map={
            "email": "contact.emails.0",
            "company": "contact.org.name",
            "lead_id": "event.id",
            "occurred_at": "event.at",
            "signals": "tags",
            "utm": "tracking",
        },
        product_line="platform",
        campaign="always-on",
    )
    m = one("standard", body, options, headers={"webhook-id": "msg_2"})
    assert (m.lead.email, m.lead.company) == ("ops@example.com", "Example")
    assert (m.lead_id, m.occurred_at) == ("evt-9", datetime(2025, 11, 24, 12, 0, tzinfo=UTC))
    assert (m.lead.signals, m.lead.utm) == (["demo_request"], {"utm_medium": "cpc"})
    assert (m.lead.product_line, m.lead.campaign) == ("platform", "always-on")


def test_overlong_delivery_ids_are_hashed_stably() -> None:
    first = one("standard", headers={"webhook-id": "x" * 500})
    again = one("standard", headers={"webhook-id": "x" * 500})
    assert first.delivery_id == again.delivery_id
    assert first.delivery_id.startswith("sha256:") and len(first.delivery_id) == 71
    assert one("standard", headers={"webhook-id": "msg_short"}).delivery_id == "msg_short"


def test_standard_accepts_form_urlencoded() -> None:
    body = b"email=sam%40example.org&full_name=Sam+Lee&utm_source=ads&notes=hi"
    m = one("standard", body, content_type="application/x-www-form-urlencoded", headers={"webhook-id": "m3"})
    assert (m.lead.email, m.lead.first_name, m.lead.last_name) == ("sam@example.org", "Sam", "Lee")
    assert (m.lead.utm, m.lead.custom) == ({"utm_source": "ads"}, {"notes": "hi"})


@pytest.mark.parametrize("kind", ["typeform", "tally", "webflow", "calendly", "standard"])
def test_no_email_is_a_payload_error_naming_it(kind: str) -> None:
    body = json.loads(
        json.dumps(load_sample(kind))
        .replace("@", " at ")  # every email address in the sample stops being one
        .replace('"email"', '"contact"')
        .replace('"Email"', '"Contact"')
    )
    with pytest.raises(PayloadError) as caught:
        mapped(kind, body, headers={"webhook-id": "m"})
    assert caught.value.field == "email"
    assert "at" not in caught.value.reason.split()  # no value from the payload in the message


def test_values_that_do_not_fit_are_kept_in_custom() -> None:
    body = {"data": {"email": "a@b.co", "country": "United States", "employees": "lots", "title": "x" * 400}}
    lead = one("standard", body, headers={"webhook-id": "m"}).lead
    assert (lead.country, lead.employees, lead.title) == (None, None, None)
    assert lead.custom == {"country": "United States", "employees": "lots", "title": "x" * 400}


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("typeform", b"not json"),
        ("tally", b"[1, 2]"),
        ("hubspot", b'{"not": "an array"}'),
        ("webflow", b'{"triggerType": "form_submission", "payload": {"id": "x"}}'),
        ("calendly", b'{"event": "invitee.created", "payload": {"email": "a@b.co"}}'),
        ("typeform", b'{"event_type": "form_response", "event_id": "e"}'),
    ],
)
def test_malformed_payloads_are_payload_errors(kind: str, body: bytes) -> None:
    with pytest.raises(PayloadError):
        mapped(kind, body)


def test_unsupported_content_type_is_a_payload_error() -> None:
    with pytest.raises(PayloadError) as caught:
        mapped("typeform", content_type="text/plain")
    assert caught.value.field == "content-type"


def test_options_refuse_unknown_canonical_fields() -> None:
    with pytest.raises(ValidationError, match="unknown canonical field"):
        SourceOptions(field_map={"e-mail": "email"})


def test_facebook_sync_map_points_to_map_async() -> None:
    with pytest.raises(NotImplementedError, match="map_async"):
        mapped("facebook")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)


def _mutations(name: str) -> st.SearchStrategy[Any]:
    """The real sample with one subtree replaced by arbitrary JSON, or arbitrary JSON outright."""
    sample = load_sample(name)

    def mutate(value: Any, path: list[int], replacement: Any) -> Any:
        if not path or not isinstance(value, dict | list) or not value:
            return replacement
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        key = keys[path[0] % len(keys)]
        copy = dict(value) if isinstance(value, dict) else list(value)
        copy[key] = mutate(value[key], path[1:], replacement)
        return copy

    paths = st.lists(st.integers(min_value=0, max_value=50), max_size=5)
    return st.builds(mutate, st.just(sample), paths, json_values) | json_values


@pytest.mark.parametrize("kind", ["hubspot", "typeform", "tally", "webflow", "calendly", "standard"])
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_any_json_maps_or_is_a_payload_error(kind: str, data: st.DataObject) -> None:
    body = data.draw(_mutations(kind))
    try:
        leads = mapped(kind, body, headers={"webhook-id": "m"})
    except PayloadError:
        return
    assert all(lead.lead.email for lead in leads)


@settings(deadline=None, max_examples=150)
@given(webhook=_mutations("facebook"), lead=_mutations("facebook_graph_lead"))
def test_any_facebook_webhook_or_graph_lead_maps_or_is_a_payload_error(webhook: Any, lead: Any) -> None:
    try:
        refs = leadgen_refs(request(webhook))
    except PayloadError:
        refs = []
    assert all(isinstance(ref.leadgen_id, str) for ref in refs)
    if isinstance(lead, dict):  # the Graph client refuses anything else
        try:
            assemble(lead_fields(lead), SourceOptions())
        except PayloadError:
            pass
