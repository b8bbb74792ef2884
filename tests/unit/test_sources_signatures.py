"""Form-source signatures: the vendors' published vectors, then every kind against tampering,
wrong and rotated secrets, missing headers and (where the scheme has one) a stale timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.sources import (
    ADAPTERS,
    InboundRequest,
    SignatureError,
    SignatureInvalid,
    SignatureMissing,
    SignatureStale,
    build_adapter,
    check_secret,
)
from services.ingest.sources.hubspot import decode_uri, signature_v3
from services.ingest.sources.samples import load_sample, signed_request
from services.ingest.sources.standard import sign

pytestmark = pytest.mark.unit

NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRETS = {kind: "s3cret-for-" + kind for kind in ADAPTERS} | {"standard": SPEC_SECRET}
OTHER = {kind: "another-secret" for kind in ADAPTERS} | {"standard": "whsec_" + "QUFB" * 8}
TIMESTAMPED = ["hubspot", "webflow", "calendly", "standard"]


def request(kind: str, headers: dict[str, str], body: bytes, url: str | None = None) -> InboundRequest:
    url = url or f"https://leadrelay.example.com/v1/sources/{kind}/webhooks"
    return InboundRequest("POST", url, headers, body, "application/json", {})


def signed(kind: str, secret: str | None = None, now: datetime = NOW) -> InboundRequest:
    url = f"https://leadrelay.example.com/v1/sources/{kind}/webhooks"
    headers, body = signed_request(kind, secret or SECRETS[kind], load_sample(kind), now, url)
    return request(kind, headers, body, url)


# --- published vectors ----------------------------------------------------------------------------


def test_standard_webhooks_spec_vector() -> None:
    """standard-webhooks libraries/python/tests/test_webhooks.py::test_sign_function."""
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        # Several signatures in one header, as during a sender's rotation: one of them matches.
        "webhook-signature": "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,xyz " + expected,
    }
    at = datetime.fromtimestamp(1614265330, UTC)
    build_adapter("standard").verify(request("standard", headers, body), [SPEC_SECRET], at)
    with pytest.raises(SignatureInvalid):
        build_adapter("standard").verify(request("standard", headers, body + b" "), [SPEC_SECRET], at)


def test_github_x_hub_signature_256_vector_on_facebook() -> None:
    """docs.github.com "Validating webhook deliveries": Meta signs X-Hub-Signature-256 the same way."""
    headers = {
        "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    }
    adapter = build_adapter("facebook")
    adapter.verify(request("facebook", headers, b"Hello, World!"), ["It's a Secret to Everybody"], NOW)
    with pytest.raises(SignatureInvalid):
        adapter.verify(request("facebook", headers, b"Hello, World?"), ["It's a Secret to Everybody"], NOW)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        # HubSpot/hubspot-api-python tests/spec/utils/test_signature.py::test_get_signature__v3
        ("15000000", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="),
        # HubSpot/hubspot-api-ruby spec/helpers/signature_spec.rb (v3_hash)
        ("1700000300000", "RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw="),
    ],
)
def test_hubspot_sdk_v3_vectors(timestamp: str, expected: str) -> None:
    secret, url = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "https://www.example.com/webhook_uri"
    body = b"{'example_field':'example_value'}"
    assert signature_v3(secret, "POST", url, body, timestamp) == expected
    headers = {"x-hubspot-signature-v3": expected, "x-hubspot-request-timestamp": timestamp}
    at = datetime.fromtimestamp(int(timestamp) / 1000, UTC) + timedelta(seconds=1)
    build_adapter("hubspot").verify(request("hubspot", headers, body, url), [secret], at)


def test_hubspot_decodes_only_the_listed_characters() -> None:
    url = "https://example.com/hook?src=hs%3aapp%2Fv3&x=%28a%29&q=a%20b%26c"
    assert decode_uri(url) == "https://example.com/hook?src=hs:app/v3&x=(a)&q=a%20b%26c"
    headers, body = signed_request("hubspot", "k", [], NOW, decode_uri(url))
    # The vendor called the encoded URL and signed the decoded one: it verifies.
    build_adapter("hubspot").verify(request("hubspot", headers, body, url), ["k"], NOW)


# --- every kind -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_signed_sample_is_accepted(kind: str) -> None:
    build_adapter(kind).verify(signed(kind), [SECRETS[kind]], NOW)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_rotation_either_secret_is_valid(kind: str) -> None:
    adapter = build_adapter(kind)
    adapter.verify(signed(kind), [OTHER[kind], SECRETS[kind]], NOW)  # signed with the second
    adapter.verify(signed(kind, OTHER[kind]), [OTHER[kind], SECRETS[kind]], NOW)  # with the first


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_tampered_body_is_refused(kind: str) -> None:
    good = signed(kind)
    tampered = InboundRequest(good.method, good.url, good.headers, good.body.replace(b"a", b"b", 1), "", {})
    with pytest.raises(SignatureInvalid):
        build_adapter(kind).verify(tampered, [SECRETS[kind]], NOW)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_wrong_secret_is_refused(kind: str) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        build_adapter(kind).verify(signed(kind), [OTHER[kind]], NOW)
    assert caught.value.reason


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_no_configured_secret_fails_closed(kind: str) -> None:
    with pytest.raises(SignatureInvalid):
        build_adapter(kind).verify(signed(kind), [], NOW)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_missing_signature_header_is_refused(kind: str) -> None:
    good = signed(kind)
    for name in [h for h in good.headers if h != "content-type"]:
        headers = {k: v for k, v in good.headers.items() if k != name}
        with pytest.raises(SignatureMissing):
            build_adapter(kind).verify(request(kind, headers, good.body, good.url), [SECRETS[kind]], NOW)


@pytest.mark.parametrize("kind", TIMESTAMPED)
@pytest.mark.parametrize("skew", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)])
def test_stale_or_future_timestamp_is_refused(kind: str, skew: timedelta) -> None:
    with pytest.raises(SignatureStale):
        build_adapter(kind).verify(signed(kind, now=NOW - skew), [SECRETS[kind]], NOW)


@pytest.mark.parametrize("kind", TIMESTAMPED)
def test_inside_the_window_is_accepted(kind: str) -> None:
    build_adapter(kind).verify(signed(kind, now=NOW - timedelta(seconds=299)), [SECRETS[kind]], NOW)


def test_tolerance_comes_from_options() -> None:
    from services.ingest.sources import SourceOptions

    adapter = build_adapter("webflow", SourceOptions(tolerance_s=60))
    with pytest.raises(SignatureStale):
        adapter.verify(signed("webflow", now=NOW - timedelta(seconds=61)), [SECRETS["webflow"]], NOW)


def test_replayed_timestamp_cannot_be_refreshed() -> None:
    """Moving the timestamp forward to pass the window breaks the signature instead."""
    good = signed("calendly", now=NOW - timedelta(hours=1))
    old = good.headers["calendly-webhook-signature"]
    fresh = old.replace(old.split(",")[0], f"t={int(NOW.timestamp())}")
    headers = {**good.headers, "calendly-webhook-signature": fresh}
    with pytest.raises(SignatureInvalid):
        build_adapter("calendly").verify(request("calendly", headers, good.body), [SECRETS["calendly"]], NOW)


@pytest.mark.parametrize(
    ("kind", "header", "value"),
    [
        ("calendly", "calendly-webhook-signature", "v1=abc"),
        ("calendly", "calendly-webhook-signature", "t=notanumber,v1=abc"),
        ("hubspot", "x-hubspot-request-timestamp", "yesterday"),
        ("webflow", "x-webflow-timestamp", "1.5e12"),
        ("standard", "webhook-timestamp", "-1"),
        ("typeform", "typeform-signature", "sha1=abc"),
        ("facebook", "x-hub-signature-256", "abc"),
        ("standard", "webhook-signature", "v1,not*base64"),
    ],
)
def test_malformed_headers_are_refused(kind: str, header: str, value: str) -> None:
    good = signed(kind)
    with pytest.raises(SignatureInvalid):
        build_adapter(kind).verify(
            request(kind, {**good.headers, header: value}, good.body, good.url), [SECRETS[kind]], NOW
        )


def test_check_secret_refuses_a_malformed_standard_secret() -> None:
    check_secret("standard", SPEC_SECRET)
    check_secret("typeform", "anything-goes")
    for kind, secret in [("standard", "whsec_%%%"), ("tally", "")]:
        with pytest.raises(ValueError, match="secret"):
            check_secret(kind, secret)


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_any_header_value_is_refused_cleanly(kind: str, data: st.DataObject) -> None:
    """Whatever arrives in the signature headers: a SignatureError, never another exception."""
    good = signed(kind)
    names = [h for h in good.headers if h != "content-type"]
    header = data.draw(st.sampled_from(names))
    value = data.draw(st.text(max_size=40) | st.from_regex(r"[0-9]{14,5000}", fullmatch=True))
    try:
        build_adapter(kind).verify(
            request(kind, {**good.headers, header: value}, good.body, good.url), [SECRETS[kind]], NOW
        )
    except SignatureError:
        pass
