"""What the config file may say. Expressions are CEL, compiled here so a bad rule is refused at start."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cel
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.delivery.config import CrmConfig, DeliveryEndpoint, NotificationsConfig, check_deliveries
from services.metrics.domain.reporting_config import QuotaEntry, ReportingConfig, SpendEntry
from services.router.sla.calendar import Calendar
from services.router.sla.policy import SlaPolicy
from shared.events import QualificationOutcome

# Routing policies the router implements (its registry is keyed by exactly these names).
RoutingPolicyName = Literal["round_robin", "weighted", "territory", "account_owner"]
ROUTING_POLICIES: tuple[str, ...] = get_args(RoutingPolicyName)
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def compile_cel(expression: str) -> str:
    try:
        cel.compile(expression)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"not a valid CEL expression: {exc}") from exc
    return expression


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Form tools ingest can verify and map (one adapter each under services/ingest/sources/);
# `canonical` is LeadRelay's own lead shape, posted to POST /v1/leads with an API key.
SourceKind = Literal[
    "canonical", "hubspot", "typeform", "tally", "webflow", "calendly", "facebook", "standard"
]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
ENV_NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"


class RateLimitConfig(_Strict):
    """Per source: a token bucket; past it, 429 with Retry-After."""

    per_second: float = Field(default=50.0, gt=0)
    burst: int = Field(default=200, ge=1)


class FacebookConfig(_Strict):
    verify_token_env: str = Field(pattern=ENV_NAME_PATTERN, description="env var: the hub.verify_token")
    access_token_env: str = Field(pattern=ENV_NAME_PATTERN, description="env var: a page access token")
    graph_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"


class SourceConfig(_Strict):
    kind: SourceKind = "canonical"
    description: str | None = None
    secret_env: list[str] = Field(
        default_factory=list,
        max_length=2,
        description="environment variables holding the signing secret; name two to rotate (both valid)",
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="canonical field -> the vendor's field key / label / ref or JSON path",
    )
    product_line: str | None = None
    campaign: str | None = None
    tolerance_s: int = Field(default=300, ge=1, le=3600, description="signature timestamp window")
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    facebook: FacebookConfig | None = None

    @field_validator("secret_env")
    @classmethod
    def _env_names(cls, value: list[str]) -> list[str]:
        import re

        for name in value:
            if not re.match(ENV_NAME_PATTERN, name):
                raise ValueError(
                    f"{name!r} is not an environment variable name (like LEADRELAY_TYPEFORM_SECRET)"
                )
        return value

    @model_validator(mode="after")
    def _needs(self) -> SourceConfig:
        if self.kind != "canonical" and not self.secret_env:
            raise ValueError(
                f"a {self.kind} source needs secret_env: the variable(s) holding its signing secret"
            )
        if self.kind == "facebook" and self.facebook is None:
            raise ValueError("a facebook source needs a facebook: block (verify_token_env, access_token_env)")
        return self


class RuleConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    when: str = Field(min_length=1, description="CEL over `lead`, `source`, `score`, `account` and `profile`")
    outcome: QualificationOutcome | None = Field(default=None, description="qualify / disqualify / nurture")
    route_to: str | None = Field(default=None, description="a team name: route qualified leads there")
    priority: int = Field(default=0, description="higher first; equal priorities keep file order")
    description: str | None = None

    _check_when = field_validator("when")(classmethod(lambda cls, v: compile_cel(v)))

    @model_validator(mode="after")
    def _does_something(self) -> RuleConfig:
        if self.outcome is None and self.route_to is None:
            raise ValueError(
                f"rule {self.name} needs an outcome (qualified / disqualified / nurtured) or route_to"
            )
        return self


class QualificationConfig(_Strict):
    version: str = Field(min_length=1, description="ruleset version, recorded with every decision")
    rules: list[RuleConfig] = Field(min_length=1)
    default: QualificationOutcome = "nurtured"

    @model_validator(mode="after")
    def _unique_names(self) -> QualificationConfig:
        _require_unique([r.name for r in self.rules], "rule name")
        return self


class TerritoryConfig(_Strict):
    """Which leads a rep covers under the `territory` policy; every given criterion must hold."""

    countries: list[str] = Field(default_factory=list, description="ISO alpha-2 codes")
    industries: list[str] = Field(default_factory=list, description="compared case-insensitively")
    min_employees: int | None = Field(default=None, ge=0)
    max_employees: int | None = Field(default=None, ge=0)

    @field_validator("countries")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [c.upper() for c in value]


class RepConfig(_Strict):
    id: str = Field(pattern=NAME_PATTERN)
    name: str
    active: bool = True
    weight: int = Field(default=1, ge=0, description="share under `weighted`; 0 = never chosen")
    max_open: int | None = Field(default=None, ge=0, description="cap on open (unclosed) leads")
    max_per_day: int | None = Field(default=None, ge=0, description="cap on assignments per local day")
    max_per_week: int | None = Field(default=None, ge=0, description="cap per local ISO week")
    out_of_office: list[date] = Field(default_factory=list, description="absence dates (rep's local date)")
    territory: TerritoryConfig | None = None
    timezone: str | None = Field(default=None, description="the rep's own zone; SLA `calendar: rep` uses it")
    calendar: str | None = Field(default=None, description="a name under calendars:, for `calendar: rep`")

    _check_timezone = field_validator("timezone")(
        classmethod(lambda cls, v: v if v is None else _known_timezone(v))
    )


class TeamConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    timezone: str = "UTC"
    policy: RoutingPolicyName = "round_robin"
    match: str | None = Field(
        default=None, description="CEL; the first team whose match is true routes the lead"
    )
    fallback_queue: str = Field(
        default="unassigned", description="where leads wait (lead.queued) when no rep is eligible"
    )
    reps: list[RepConfig] = Field(min_length=1)
    calendar: str | None = Field(
        default=None, description="a name under calendars:; none = weekdays 09:00-17:00 in `timezone`"
    )
    manager: str | None = Field(default=None, description="who SLA `notify_manager` steps notify")
    working_hours: bool = Field(
        default=False, description="only reps inside their working hours (their calendar) are eligible"
    )

    _check_match = field_validator("match")(classmethod(lambda cls, v: v if v is None else compile_cel(v)))
    _check_timezone = field_validator("timezone")(classmethod(lambda cls, v: _known_timezone(v)))


class RoutingConfig(_Strict):
    teams: list[TeamConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RoutingConfig:
        _require_unique([t.name for t in self.teams], "team name")
        _require_unique([r.id for t in self.teams for r in t.reps], "rep id")
        return self


class AccountConfig(_Strict):
    """A known account: leads match it by email domain or company name; `owner` gets them first."""

    name: str = Field(min_length=1)
    domains: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list, description="other company names it goes by")
    owner: str | None = Field(default=None, description="a rep id")

    @field_validator("domains")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [d.lower().lstrip("@") for d in value]


FREE_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com",
    "icloud.com", "me.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "web.de", "mail.com",
    "yandex.ru", "qq.com", "163.com",
)  # fmt: skip


IdentityKey = Literal["email", "phone"]


class ProfilesConfig(_Strict):
    """How submissions merge into one person's profile."""

    identity_keys: list[IdentityKey] = Field(
        default_factory=lambda: list[IdentityKey](["email"]), min_length=1
    )
    duplicate_window_s: int = Field(
        default=86_400,
        ge=0,
        description="a routed person submitting again within this enriches, not reroutes",
    )
    free_mail_domains: list[str] = Field(default_factory=lambda: list(FREE_MAIL_DOMAINS))


class FitRuleConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    when: str = Field(min_length=1, description="CEL over `lead` and `account`")
    points: float

    _check_when = field_validator("when")(classmethod(lambda cls, v: compile_cel(v)))


class ScoringConfig(_Strict):
    """Fit (who they are) + engagement (what they did, decayed by age)."""

    half_life_days: float = Field(default=30.0, gt=0, description="engagement points halve after this")
    fit: list[FitRuleConfig] = Field(default_factory=list)
    engagement: dict[str, float] = Field(
        default_factory=lambda: {
            "form": 5.0,
            "demo_request": 30.0,
            "pricing_page": 10.0,
            "webinar": 8.0,
            "meeting_booked": 40.0,
            "activity": 3.0,
        },
        description="points per signal (LeadData.signals, plus `form` for every submission)",
    )

    @model_validator(mode="after")
    def _unique(self) -> ScoringConfig:
        _require_unique([r.name for r in self.fit], "fit rule name")
        return self


class SlaPolicyConfig(SlaPolicy):
    """An SLA policy as the config holds it: `applies_when` compiled at load, like rules."""

    _check_applies_when = field_validator("applies_when")(classmethod(lambda cls, v: compile_cel(v)))


class FeedbackConfig(_Strict):
    """What the router does with sales feedback (`activity.recorded`)."""

    recycle_on_reject: bool | list[str] = Field(
        default=False, description="recycle rejected leads to nurture: always, or for these reason codes"
    )

    def recycles(self, reason: str | None) -> bool:
        if isinstance(self.recycle_on_reject, bool):
            return self.recycle_on_reject
        return reason is not None and reason in self.recycle_on_reject


class LeadRelayConfig(_Strict):
    # Field order is validation order: calendars before routing and sla, which name them.
    version: Literal[1] = 1
    sources: dict[str, SourceConfig] = Field(default_factory=lambda: {"api": SourceConfig()})
    calendars: dict[str, Calendar] = Field(default_factory=dict, description="named business calendars")
    qualification: QualificationConfig
    routing: RoutingConfig
    sla: list[SlaPolicyConfig] = Field(default_factory=list, description="SLA policies; several may apply")
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    spend: list[SpendEntry] = Field(default_factory=list, description="marketing spend per source and month")
    quotas: list[QuotaEntry] = Field(default_factory=list, description="revenue targets per period")
    # Outbound: signed webhooks, rep notifications, CRM owner write-back (services/delivery/config.py).
    deliveries: list[DeliveryEndpoint] = Field(default_factory=list, description="outbound webhooks")
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    crm: CrmConfig = Field(default_factory=CrmConfig)

    _check_deliveries = field_validator("deliveries")(classmethod(lambda cls, v: check_deliveries(v)))
    accounts: list[AccountConfig] = Field(default_factory=list, description="named accounts and owners")
    profiles: ProfilesConfig = Field(default_factory=ProfilesConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)

    @model_validator(mode="after")
    def _names_resolve(self) -> LeadRelayConfig:
        teams = {t.name for t in self.routing.teams}
        for rule in self.qualification.rules:
            if rule.route_to is not None and rule.route_to not in teams:
                raise ValueError(
                    f"rule {rule.name} routes to team {rule.route_to!r}, which is not under routing.teams "
                    f"({', '.join(sorted(teams))})"
                )
        reps = {r.id for t in self.routing.teams for r in t.reps}
        for account in self.accounts:
            if account.owner is not None and account.owner not in reps:
                raise ValueError(f"account {account.name!r} is owned by {account.owner!r}, not a rep id")
        return self

    @field_validator("routing")
    @classmethod
    def _routing_calendars_exist(cls, routing: RoutingConfig, info: ValidationInfo) -> RoutingConfig:
        known = set(info.data.get("calendars") or {})
        for team in routing.teams:
            named = [(f"team {team.name}", team.calendar)]
            named += [(f"rep {r.id}", r.calendar) for r in team.reps]
            for who, name in named:
                if name is not None and name not in known:
                    raise ValueError(_unknown_calendar(who, name, known))
        return routing

    @field_validator("sla")
    @classmethod
    def _policies_valid(cls, policies: list[SlaPolicyConfig], info: ValidationInfo) -> list[SlaPolicyConfig]:
        _require_unique([p.name for p in policies], "SLA policy name")
        known = set(info.data.get("calendars") or {})
        for policy in policies:
            if policy.calendar not in ("team", "rep") and policy.calendar not in known:
                raise ValueError(_unknown_calendar(f"SLA policy {policy.name}", policy.calendar, known))
        return policies


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris") from exc
    return value


def _unknown_calendar(who: str, name: str, known: set[str]) -> str:
    listed = ", ".join(sorted(known)) or "none defined"
    return f"{who} names calendar {name!r}, which is not under calendars: ({listed}); define it there"


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice; each {what} must be unique")
        seen.add(value)
