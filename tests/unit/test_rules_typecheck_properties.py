"""The static type check agrees with the CEL runtime, over generated expressions (hypothesis).

Expressions are built from the declared context's fields, literals, operators and functions. On a
lead that gives every field: an expression the checker accepts evaluates to a bool without error;
one it reports as an error on every lead (with no `&&`, `||` or `?:`, which absorb errors) raises.
And the parser never fails on what the runtime compiles except with its own "not supported".
"""

from __future__ import annotations

from typing import Any

import cel
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.router.qualification.cel_ast import CelSyntaxUnsupported, parse
from services.router.qualification.cel_types import RULE_CONTEXT
from services.router.qualification.typecheck import check_expression

pytestmark = pytest.mark.unit

# Values are valid regexes too: `matches()` over two fields is well typed; a bad pattern is a
# run-time matter of the data, not of types.
FULL = {
    "lead": {
        "email": "cfo@northwind.example", "first_name": "A", "last_name": "B", "company": "Northwind",
        "title": "CFO", "phone": "555-0100", "country": "US", "employees": 800, "annual_revenue": 1.5e6,
        "industry": "software", "product_line": "core", "campaign": "spring", "consent": True,
        "signals": ["demo_request"], "utm": {"utm_source": "g"}, "custom": {},
    },
    "source": "api",
    "score": {"total": 80.0, "fit": 45.0, "engagement": 35.0},
    "account": {"name": "Northwind", "owner": "sara", "by": "domain"},
    "profile": {"submissions": 2, "free_mail": False},
}  # fmt: skip
FIELDS = [f"lead.{k}" for k in FULL["lead"] if k != "custom"]
FIELDS += ["source", "score.total", "score.fit", "score.engagement", "account.name", "account.by"]
FIELDS += ["profile.submissions", "profile.free_mail", "lead.nope", "score.nope"]
FIELDS += ['lead.utm["utm_source"]', "lead.signals[0]", 'lead.signals.filter(s, s != "")']
FIELDS += ["lead.signals.map(s, size(s))", "has(lead.title)", 'lead.signals.exists(s, s == "x")']
LITERALS = ["1", "2.5", '"US"', "true", "3u", '["US", "DE"]', "null", '{"a": 1}']
_RUNTIME_ERRORS = (ValueError, TypeError, KeyError, RuntimeError)


def _expressions(logic: bool) -> st.SearchStrategy[str]:
    atom = st.sampled_from(FIELDS + LITERALS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["==", "!=", "<", ">=", "+", "-", "*", "in"]), inner)
        forms = [
            binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"size({e})"),
            st.tuples(inner, st.sampled_from(["matches", "startsWith"]), inner).map(
                lambda t: f"{t[0]}.{t[1]}({t[2]})"
            ),
            inner.map(lambda e: f"(!{e})"),
        ]
        if logic:
            logical = st.tuples(inner, st.sampled_from(["&&", "||"]), inner)
            forms.append(logical.map(lambda t: f"({t[0]} {t[1]} {t[2]})"))
            forms.append(st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"))
        return st.one_of(*forms)

    return st.recursive(atom, extend, max_leaves=6)


def _compiles(expression: str) -> bool:
    try:
        cel.compile(expression)
    except Exception:  # the runtime's syntax error: not an expression a config could hold
        return False
    return True


def _run(expression: str) -> tuple[bool, Any]:
    try:
        return True, cel.compile(expression).execute(FULL)
    except _RUNTIME_ERRORS as exc:
        return False, exc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions(logic=True))
def test_what_the_checker_accepts_runs_as_a_condition(expression: str) -> None:
    assume(_compiles(expression))
    # `c ? null : x` is typed as x (null stands for "absent"): whether it holds depends on c.
    assume("? null" not in expression and ": null" not in expression)
    try:
        tree = parse(expression)
    except CelSyntaxUnsupported:
        pytest.fail(f"the parser refused {expression}")
    if check_expression(tree, expression, RULE_CONTEXT):
        return
    ok, value = _run(expression)
    assert ok, f"{expression}: accepted, but at run time: {value!r}"
    assert isinstance(value, bool), f"{expression}: accepted, but gives {value!r}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions(logic=False))
def test_what_the_checker_calls_an_error_on_every_lead_fails_at_run_time(expression: str) -> None:
    assume(_compiles(expression))
    problems = check_expression(parse(expression), expression, RULE_CONTEXT)
    fatal = [p for p in problems if "an error on every lead" in p.message or "no field" in p.message]
    if not fatal:
        return
    ok, value = _run(expression)
    assert not ok, f"{expression}: reported {fatal[0].message!r}, but it gives {value!r}"
