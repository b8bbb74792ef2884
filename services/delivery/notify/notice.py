"""What a notification says, built once from the event, the lead cache and the config; rendered
as Slack Block Kit or as an email. Pure: no I/O, no logging (it holds personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from shared.config import LeadRelayConfig
from shared.events import CloudEvent, Event, LeadAssigned, LeadReassigned, SlaEscalated, SlaEvent


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    timezone: str


class Directory:
    """Names and time zones of reps and managers, from the config."""

    def __init__(self, config: LeadRelayConfig) -> None:
        self._people: dict[str, Person] = {}
        contacts = config.notifications.contacts
        for team in config.routing.teams:
            for rep in team.reps:
                contact = contacts.get(rep.id)
                zone = (contact and contact.timezone) or rep.timezone or team.timezone
                self._people[rep.id] = Person(rep.id, (contact and contact.name) or rep.name, zone)
            if team.manager and team.manager not in self._people:
                contact = contacts.get(team.manager)
                zone = (contact and contact.timezone) or team.timezone
                self._people[team.manager] = Person(
                    team.manager, (contact and contact.name) or team.manager, zone
                )
        self.timeline_url = config.notifications.timeline_url.rstrip("/")

    def person(self, who: str) -> Person:
        return self._people.get(who) or Person(who, who, "UTC")


@dataclass(frozen=True)
class Notice:
    recipient: Person
    headline: str
    lead_id: str
    lead_name: str
    company: str
    score: str
    owner: str
    why: list[str]
    deadline: str
    link: str


_HEADLINES = {
    "lead.assigned": "New lead assigned to you",
    "lead.reassigned": "A lead was reassigned to you",
    "sla.warning": "SLA warning: this lead is due soon",
    "sla.breached": "SLA breached: this lead is overdue",
}


def build_notice(
    directory: Directory, recipient: str, event: CloudEvent, payload: Event, lead: dict[str, Any] | None
) -> Notice:
    person = directory.person(recipient)
    cache = lead or {}
    details = cache.get("person") or {}
    facts = cache.get("facts") or {}
    name = " ".join(p for p in (details.get("first_name"), details.get("last_name")) if p) or event.subject
    headline = _HEADLINES.get(event.type, event.type)
    if isinstance(payload, SlaEscalated):
        headline = (
            "Escalation: a lead on your team is overdue"
            if payload.action == "notify_manager"
            else ("Reminder: this lead is still waiting for you")
        )
    why: list[str] = []
    if isinstance(payload, LeadAssigned | LeadReassigned):
        why = [r.message for r in payload.reasons]
    elif isinstance(payload, SlaEscalated):
        why = [r.message for r in payload.reasons] or [f"SLA policy {payload.policy}"]
    elif isinstance(payload, SlaEvent):
        why = [f"SLA policy {payload.policy} ({payload.target.replace('_', ' ')})"]
    owner_id = getattr(payload, "rep_id", None)
    owner = directory.person(owner_id).name if isinstance(owner_id, str) else "nobody yet"
    # The assignment carries the score (newer routers); else the qualification's, from the cache.
    score = getattr(payload, "score", None)
    score = score if isinstance(score, int | float) else facts.get("score")
    return Notice(
        recipient=person,
        headline=headline,
        lead_id=event.subject,
        lead_name=name,
        company=details.get("company") or "—",
        score=f"{score:g}" if isinstance(score, int | float) else "—",
        owner=owner,
        why=why or ["—"],
        deadline=_deadline(payload, facts, person.timezone),
        link=f"{directory.timeline_url}/v1/leads/{quote(event.subject, safe='')}/timeline",
    )


def _deadline(payload: Event, facts: dict[str, Any], zone: str) -> str:
    instant: datetime | None = None
    for attr in ("breach_at", "due_at"):
        value = getattr(payload, attr, None)
        if isinstance(value, datetime):
            instant = value
            break
    if instant is None and isinstance(facts.get("breach_at"), str):
        instant = datetime.fromisoformat(facts["breach_at"])
    if instant is None:
        return "no SLA deadline yet"
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} ({zone})"


def slack_blocks(notice: Notice) -> dict[str, Any]:
    """A Block Kit message: header, the facts as fields, why, and a button to the timeline."""
    fields = [
        ("Lead", notice.lead_name),
        ("Company", notice.company),
        ("Score", notice.score),
        ("Owner", notice.owner),
        ("SLA deadline", notice.deadline),
    ]
    return {
        "text": f"{notice.headline}: {notice.lead_name} ({notice.company})",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:150]}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_esc(v)}"} for k, v in fields],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Why routed*\n" + "\n".join(f"• {_esc(w)}" for w in notice.why),
                },
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the lead's timeline"},
                        "url": notice.link,
                    }
                ],
            },
        ],
    }


def email_text(notice: Notice) -> tuple[str, str]:
    """(subject, plain-text body)."""
    subject = f"{notice.headline}: {notice.lead_name} ({notice.company})"
    lines = [
        f"Hello {notice.recipient.name},",
        "",
        f"{notice.headline}.",
        "",
        f"Lead:          {notice.lead_name}",
        f"Company:       {notice.company}",
        f"Score:         {notice.score}",
        f"Owner:         {notice.owner}",
        f"SLA deadline:  {notice.deadline}",
        "",
        "Why routed:",
        *[f"  - {w}" for w in notice.why],
        "",
        f"Timeline: {notice.link}",
        "",
        "-- LeadRelay",
    ]
    return subject, "\n".join(lines)


def _esc(text: str) -> str:
    # Slack mrkdwn control characters; a company named "<!channel>" must not ping anyone.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
