"""Profiles: identity normalisation, account matching (never on free mail), merge and duplicate window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.router.profiles import AccountMatcher, identity_key, merge, normalise_email
from shared.config.schema import FREE_MAIL_DOMAINS, AccountConfig
from shared.events import LeadData

pytestmark = pytest.mark.unit
T0 = datetime(2026, 3, 2, 15, tzinfo=UTC)
ACCOUNTS = [
    AccountConfig(name="Acme Corp", domains=["acme.com"], aliases=["ACME Industries"], owner="ana"),
    AccountConfig(name="Gmail Lovers", domains=["gmail.com"], owner="ben"),
]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Ada.Lovelace+forms@GMail.com", "adalovelace@gmail.com"),
        ("ada.lovelace@googlemail.com", "adalovelace@gmail.com"),
        ("Bob+x@Acme.com", "bob@acme.com"),
        ("bob.smith@acme.com", "bob.smith@acme.com"),  # dots matter outside Gmail
    ],
)
def test_email_normalisation_folds_aliases_of_one_mailbox(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal


def test_identity_key_follows_the_configured_order() -> None:
    lead = LeadData(email="a@b.co", phone="+1 (555) 010-9999")

    assert identity_key(lead, ["phone", "email"]) == "phone:15550109999"
    assert identity_key(lead, ["email"]) == "email:a@b.co"
    assert identity_key(LeadData(email="a@b.co"), ["phone", "email"]) == "email:a@b.co"


def test_accounts_match_by_domain_subdomain_and_company_but_never_free_mail() -> None:
    matcher = AccountMatcher(ACCOUNTS, FREE_MAIL_DOMAINS)

    assert matcher.match("x@acme.com", None).as_json() == {
        "name": "Acme Corp",
        "owner": "ana",
        "by": "domain",
    }  # type: ignore[union-attr]
    assert matcher.match("x@eu.acme.com", None).name == "Acme Corp"  # type: ignore[union-attr]
    by_name = matcher.match("x@other.io", "Acme Industries, Inc.")
    assert by_name is not None and (by_name.name, by_name.by) == ("Acme Corp", "company")
    assert matcher.match("someone@gmail.com", None) is None  # a free-mail domain says nothing
    assert matcher.match("someone@gmail.com", "acme corp").by == "company"  # type: ignore[union-attr]


def test_merge_keeps_newer_values_and_accumulates_signals() -> None:
    first = merge(
        None, "email:a@b.co", "lead-1", LeadData(email="a@b.co", title="Dev", country="US"), "api", T0
    )
    later = T0 + timedelta(hours=2)
    second = merge(
        first,
        first.key,
        "lead-2",
        LeadData(email="a@b.co", title="CTO", signals=["demo_request"]),
        "web",
        later,
    )
    older = merge(
        second, first.key, "lead-0", LeadData(email="a@b.co", title="Intern"), "api", T0 - timedelta(days=1)
    )

    assert second.lead_id == "lead-1" and second.submissions == 2
    assert second.fields["title"] == "CTO" and second.fields["country"] == "US"
    assert [s for s, _ in second.signals] == ["form", "form", "demo_request"]
    assert older.fields["title"] == "CTO"  # an older event never overwrites newer data
    assert older.first_seen == T0 - timedelta(days=1)


def test_duplicate_only_when_routed_and_inside_the_window() -> None:
    profile = merge(None, "k", "lead-1", LeadData(email="a@b.co"), "api", T0)
    window = timedelta(hours=24)

    assert not profile.is_duplicate(T0 + timedelta(hours=1), window)  # never routed
    routed = profile.__class__(**{**profile.__dict__, "routed_at": T0})
    assert routed.is_duplicate(T0 + timedelta(hours=23), window)
    assert not routed.is_duplicate(T0 + timedelta(hours=25), window)
