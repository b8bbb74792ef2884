"""The demo's form tools: each vendor's own payload shape, signed the way the vendor signs it.

Each request is the vendor's sample (`examples/sources/<kind>.json`) with a new person and new
vendor ids (delivery id, response token, object id), so every request is a new lead and a retry
of the same request would be a duplicate, as with the real tools. The person comes from the
demo's generator: synthetic names on `.example` domains, never real people.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ingest.sources.samples import load_sample
from services.ingest.webhooks.sources import dev_secret
from shared.config import LeadRelayConfig

Person = Mapping[str, Any]
Builder = Callable[[Any, Person, str, datetime], Any]


@dataclass(frozen=True)
class VendorSource:
    name: str  # the config's source name: POST /v1/sources/<name>/webhooks
    kind: str
    secret: str


def vendor_sources(
    config: LeadRelayConfig, kind: str, env: Mapping[str, str] | None = None
) -> list[VendorSource]:
    """The configured webhook sources of this kind (`all`: every kind), each with the secret the
    ingest checks: the first of its `secret_env` variables that is set, else the dev secret."""
    env = os.environ if env is None else env
    found = []
    for name, source in config.sources.items():
        if source.kind == "canonical" or kind not in ("all", source.kind):
            continue
        secret = next((env[v] for v in source.secret_env if env.get(v)), None)
        found.append(VendorSource(name, source.kind, secret or dev_secret(source.kind, name)))
    return found


def graph_is_local(config: LeadRelayConfig, name: str) -> bool:
    """Facebook leads are read back from the Graph API: only a local stand-in answers a demo's ids."""
    fb = config.sources[name].facebook
    return fb is not None and fb.graph_url.startswith(("http://127.0.0.1", "http://localhost"))


def vendor_payload(kind: str, person: Person, uid: str, at: datetime) -> Any:
    """The vendor's sample for this person, with ids made from `uid` and its event time `at`."""
    return BUILDERS[kind](copy.deepcopy(load_sample(kind)), person, uid, at)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _hubspot(events: list[dict[str, Any]], p: Person, uid: str, at: datetime) -> Any:
    values = {
        "email": p["email"],
        "firstname": p["first_name"],
        "lastname": p["last_name"],
        "company": p["company"],
        "jobtitle": p["title"],
    }
    extra = [("country", p["country"]), ("numemployees", str(p["employees"]))]
    template = events[-1]
    events += [template | {"propertyName": k, "propertyValue": v} for k, v in extra]
    object_id = int(uid, 16) % 10**9
    for i, event in enumerate(events):
        event |= {"eventId": object_id * 100 + i, "objectId": object_id, "occurredAt": _ms(at) + i}
        if event.get("propertyName") in values:
            event["propertyValue"] = values[event["propertyName"]]
    return events


def _typeform(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    response = body["form_response"]
    body["event_id"] = f"01DEMO{uid.upper()}"
    response |= {"token": uid, "submitted_at": at.isoformat(), "landed_at": at.isoformat()}
    response["hidden"] |= {"utm_campaign": p["utm"]["campaign"], "country": p["country"]}
    by_ref = {"first_name": p["first_name"], "last_name": p["last_name"], "company": p["company"]}
    for answer in response["answers"]:
        ref = answer["field"]["ref"]
        if ref in by_ref:
            answer["text"] = by_ref[ref]
        elif ref == "work_email":
            answer["email"] = p["email"]
        elif ref == "company_size":  # a head count the router's ICP rule can read
            answer["choice"]["label"] = str(p["employees"])
    return body


def _tally(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    body |= {"eventId": f"demo-{uid}", "createdAt": at.isoformat()}
    body["data"] |= {"responseId": uid, "submissionId": uid, "createdAt": at.isoformat()}
    by_label = {
        "Full name": f"{p['first_name']} {p['last_name']}",
        "Business email": p["email"],
        "Company": p["company"],
        "Team size": p["employees"],
    }
    for f in body["data"]["fields"]:
        if f["label"] in by_label:
            f["value"] = by_label[f["label"]]
        elif f["label"] == "Country":  # a dropdown: the answer is the chosen option's id
            f["options"][0]["text"] = p["country"]
    return body


def _webflow(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    body["payload"] |= {"id": uid, "submittedAt": at.isoformat()}
    body["payload"]["data"] |= {
        "First Name": p["first_name"],
        "Last Name": p["last_name"],
        "Email": p["email"],
        "Company": p["company"],
        "Country": p["country"],
        "Company size": p["employees"],
    }
    return body


def _calendly(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    invitee = body["payload"]
    name = f"{p['first_name']} {p['last_name']}"
    invitee |= {"email": p["email"], "first_name": p["first_name"], "last_name": p["last_name"], "name": name}
    invitee |= {"uri": f"{invitee['event']}/invitees/{uid}", "created_at": at.isoformat()}
    body["created_at"] = at.isoformat()
    answers = [p["company"], p["title"], "Routing across two teams."]
    for qa, answer in zip(invitee["questions_and_answers"], answers, strict=True):
        qa["answer"] = answer
    invitee["questions_and_answers"] += [
        {"answer": p["country"], "position": 3, "question": "Country"},
        {"answer": str(p["employees"]), "position": 4, "question": "Number of employees"},
    ]
    return body


def _facebook(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    value = body["entry"][0]["changes"][0]["value"]
    value |= {"leadgen_id": str(int(uid, 16) % 10**15), "created_time": int(at.timestamp())}
    return body


def _standard(body: dict[str, Any], p: Person, uid: str, at: datetime) -> Any:
    body["timestamp"] = at.isoformat()
    body["data"] |= {
        "submission_id": f"sub_{uid}",
        "email": p["email"],
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "company": p["company"],
        "job_title": p["title"],
        "country": p["country"],
        "employees": str(p["employees"]),
    }
    return body


BUILDERS: dict[str, Builder] = {
    "hubspot": _hubspot,
    "typeform": _typeform,
    "tally": _tally,
    "webflow": _webflow,
    "calendly": _calendly,
    "facebook": _facebook,
    "standard": _standard,
}
KINDS = tuple(BUILDERS)


def graph_lead(leadgen_id: str, person: Person) -> dict[str, Any]:
    """What the Graph API answers for one leadgen id (for a local stand-in, as in the tests).

    Without `created_time`: the webhook's own (the demo's event time) then stands."""
    lead: dict[str, Any] = copy.deepcopy(load_sample("facebook_graph_lead"))
    del lead["created_time"]
    lead["id"] = leadgen_id
    values = {
        "full_name": f"{person['first_name']} {person['last_name']}",
        "email": person["email"],
        "company_name": person["company"],
        "job_title": person["title"],
    }
    for item in lead["field_data"]:
        if item["name"] in values:
            item["values"] = [values[item["name"]]]
    lead["field_data"] += [
        {"name": "country", "values": [person["country"]]},
        {"name": "company_size", "values": [str(person["employees"])]},
    ]
    return lead
