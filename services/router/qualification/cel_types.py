"""The types CEL expressions see, and the declared context of each kind of expression.

The lead's fields are read from `LeadData` itself, so a field added to the canonical lead is known
to `rules check` at once; `score`, `account` and `profile` mirror what `Router.evaluate` builds
(tests/unit/test_rules_typecheck.py compares them with a real context, so they cannot drift).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from shared.events import LeadData


@dataclass(frozen=True)
class CelType:
    name: (
        str  # int, uint, double, string, bool, bytes, null, timestamp, duration, type, dyn, list, map, record
    )
    elem: CelType | None = None  # list element, map value
    key: CelType | None = None  # map key
    fields: tuple[tuple[str, Field], ...] = ()  # a record's fields, in declaration order
    label: str = ""  # a record's name in messages: "the lead"

    def field(self, name: str) -> Field | None:
        return next((f for n, f in self.fields if n == name), None)

    def describe(self) -> str:
        """As a sentence reads it: `an int`, `a list of strings`, `a map`."""
        if self.name == "record":
            return self.label
        if self.name == "list":
            inner = self.elem.plural() if self.elem and self.elem.name != "dyn" else "values"
            return f"a list of {inner}"
        if self.name == "map":
            return "a map"
        if self.name == "null":
            return "null"
        return ("an " if self.name[0] in "aeiou" else "a ") + self.name

    def plural(self) -> str:
        return self.describe().split(" ", 1)[1] + "s" if self.name not in ("list", "map") else "lists"

    def spelled(self) -> str:
        """As the docs table spells it: `int`, `list(string)`, `map(string, dyn)`."""
        if self.name == "list":
            return f"list({self.elem.spelled() if self.elem else 'dyn'})"
        if self.name == "map":
            key = self.key.spelled() if self.key else "dyn"
            return f"map({key}, {self.elem.spelled() if self.elem else 'dyn'})"
        return self.label if self.name == "record" else self.name


@dataclass(frozen=True)
class Field:
    type: CelType
    optional: bool  # absent from the context when not given: guard it with has()
    doc: str = ""
    nullable: bool = False


INT, UINT, DOUBLE = CelType("int"), CelType("uint"), CelType("double")
STRING, BOOL, BYTES, NULL = CelType("string"), CelType("bool"), CelType("bytes"), CelType("null")
TIMESTAMP, DURATION, TYPE, DYN = CelType("timestamp"), CelType("duration"), CelType("type"), CelType("dyn")
NUMBERS = frozenset({"int", "uint", "double"})


def list_of(elem: CelType) -> CelType:
    return CelType("list", elem=elem)


def map_of(key: CelType, value: CelType) -> CelType:
    return CelType("map", elem=value, key=key)


def record(label: str, **fields: Field) -> CelType:
    return CelType("record", fields=tuple(fields.items()), label=label)


_SCALARS: dict[Any, CelType] = {str: STRING, int: INT, float: DOUBLE, bool: BOOL, Any: DYN}


def _from_annotation(annotation: Any) -> CelType:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return _from_annotation(args[0])
    if origin in (Union, types.UnionType) and len(args) == 1:
        return _from_annotation(args[0])
    if origin is list:
        return list_of(_from_annotation(args[0]))
    if origin is dict:
        return map_of(_from_annotation(args[0]), _from_annotation(args[1]))
    return _SCALARS.get(annotation, DYN)


_LEAD_DOCS = {
    "email": "lowercased",
    "title": "job title as given",
    "employees": "company size (headcount)",
    "annual_revenue": "company revenue, currency units",
    "custom": "the source's own form fields (field_map `custom.*`); values of any type",
    "utm": "utm_source, utm_campaign, ... as captured",
}


def _lead() -> CelType:
    # Fields with a default of None are left out when not given; lists and maps are always there.
    fields = {
        name: Field(
            _from_annotation(info.annotation),
            optional=not info.is_required() and info.default_factory is None,
            doc=info.description or _LEAD_DOCS.get(name, ""),
        )
        for name, info in LeadData.model_fields.items()
    }
    return record("the lead", **fields)


LEAD = _lead()
SCORE = record(
    "the score",
    total=Field(DOUBLE, False, "fit + engagement"),
    fit=Field(DOUBLE, False, "points of the fit rules that hold"),
    engagement=Field(DOUBLE, False, "signal points, halved every half_life_days"),
)
# `account` is {} when no configured account matched: every field needs has().
ACCOUNT = record(
    "the account",
    name=Field(STRING, True, "the matched account's name"),
    owner=Field(STRING, True, "its owner's rep id (null when it has none)", nullable=True),
    by=Field(STRING, True, "how it matched: domain or company"),
)
PROFILE = record(
    "the profile",
    submissions=Field(INT, False, "submissions merged into this person's profile"),
    free_mail=Field(BOOL, False, "the email is on a free-mail domain"),
)

# What each kind of expression sees (Router.evaluate, Scorer.score, SlaService.start).
RULE_CONTEXT: dict[str, CelType] = {
    "lead": LEAD,
    "source": STRING,
    "score": SCORE,
    "account": ACCOUNT,
    "profile": PROFILE,
}
FIT_CONTEXT: dict[str, CelType] = {"lead": LEAD, "account": ACCOUNT}
SLA_CONTEXT: dict[str, CelType] = {"lead": LEAD, "source": STRING, "team": STRING}

_VARIABLE_DOCS = {
    "source": "the source the lead came from (a key under sources:)",
    "team": "the team the lead was assigned to",
}


def context_table() -> str:
    """The CEL context as a Markdown table (docs/routing.md carries it; a test keeps it equal)."""
    rows = ["| variable | type | has() needed | seen by | meaning |", "| --- | --- | --- | --- | --- |"]
    seen_by = {
        name: ", ".join(
            kind
            for kind, ctx in (("rules", RULE_CONTEXT), ("fit", FIT_CONTEXT), ("sla", SLA_CONTEXT))
            if name in ctx
        )
        for name in (*RULE_CONTEXT, *SLA_CONTEXT)
    }
    for name, kind in {**RULE_CONTEXT, **SLA_CONTEXT}.items():
        if kind.name != "record":
            rows.append(f"| `{name}` | {kind.spelled()} | no | {seen_by[name]} | {_VARIABLE_DOCS[name]} |")
            continue
        for fname, f in kind.fields:
            spelled = f.type.spelled() + (" or null" if f.nullable else "")
            cells = [f"`{name}.{fname}`", spelled, "yes" if f.optional else "no", seen_by[name], f.doc]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
