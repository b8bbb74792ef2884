"""`rules check` finds CEL type errors before a lead arrives: file, line, rule, expression, fix.

One test per kind of error, each on a known line of the example config; the shipped templates pass;
the service start and the hot reload refuse what `rules check` refuses; and the declared context
is compared with the context the router really builds, so the check cannot drift from the code.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cel
import pytest
from typer.testing import CliRunner

from services.cli import app
from services.router.domain.decision import Router
from services.router.qualification import RuleSet
from services.router.qualification.cel_ast import parse
from services.router.qualification.cel_types import RULE_CONTEXT, SLA_CONTEXT, CelType
from services.router.qualification.check import load_checked
from services.router.qualification.typecheck import check_expression
from services.router.reload import ConfigReloader
from services.router.settings import RouterSettings
from shared.config import ConfigError, load_config
from shared.events import LeadData

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_TEXT = (EXAMPLES / "leadrelay.yaml").read_text(encoding="utf-8")
GMAIL = (
    'lead.email.endsWith("@gmail.com") || lead.email.endsWith("@yahoo.com") || '
    'lead.email.endsWith("@hotmail.com")'
)
ICP = "has(lead.employees) && lead.employees >= 50"
TEAM = 'has(lead.country) && lead.country in ["US", "CA"]'


@pytest.fixture(autouse=True)
def clean_env_wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "1000")


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    assert EXAMPLE_TEXT.count(old) == 1, old
    text = EXAMPLE_TEXT.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    first = new.splitlines()[0]
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if first in row)
    return path, line


def _check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    return result.exit_code, result.output


# (substituted, replacement, where, label, message, fix): one per kind of error.
KINDS = [
    (GMAIL, 'lead.employees > "big"', "qualification.rules[0].when", "rule free-email-domain",
     'lead.employees is an int and "big" is a string: > is not defined between them',
     "lead.employees is an int; compare it with a number"),
    (GMAIL, "lead.no_such_field == 1", "qualification.rules[0].when", "rule free-email-domain",
     "lead has no field no_such_field", "a form field of your own is lead.custom.no_such_field"),
    (GMAIL, 'score.fit + "x" == "y"', "qualification.rules[0].when", "rule free-email-domain",
     'score.fit is a double and "x" is a string: + is not defined between them',
     "score.fit is a double; + takes two numbers"),
    (GMAIL, "score.fit + 10 > 20.0", "qualification.rules[0].when", "rule free-email-domain",
     "CEL does not mix int and double in +", "make both doubles, e.g. score.fit + 10.0"),
    (GMAIL, 'lead.employees == "big"', "qualification.rules[0].when", "rule free-email-domain",
     "they are never equal (== is always false)", "lead.employees is an int; compare it with a number"),
    (GMAIL, 'lead.title.lowerAscii() == "cfo"', "qualification.rules[0].when", "rule free-email-domain",
     "lowerAscii() on a string is not a function of this CEL runtime", "use one of: all, bytes"),
    (GMAIL, 'lead.employees.startsWith("1")', "qualification.rules[0].when", "rule free-email-domain",
     "lead.employees is an int: startsWith() works on strings", "or convert with string(...)"),
    (GMAIL, "score.total", "qualification.rules[0].when", "rule free-email-domain",
     "the expression gives a double, not true or false", "score.total > 0"),
    (GMAIL, 'scores.total > 1.0', "qualification.rules[0].when", "rule free-email-domain",
     "unknown variable scores", "expressions here see: lead, source, score, account, profile"),
    (GMAIL, "lead.employees && true", "qualification.rules[0].when", "rule free-email-domain",
     "lead.employees is an int, not a condition (&& needs true or false)", "lead.employees > 0"),
    (GMAIL, "1 in lead.signals", "qualification.rules[0].when", "rule free-email-domain",
     "it is never in it (always false)", "lead.signals holds strings; look for a string"),
    (ICP, 'has(lead.employees) && lead.employees >= "50"', "qualification.rules[1].when", "rule icp-fit",
     "lead.employees is an int", "compare it with a number"),
    (TEAM, 'lead.title.matches(42)', "routing.teams[0].match", "team inbound-amer",
     "42 is an int: matches() takes a string", 'pass a string, e.g. matches("text")'),
    ('applies_when: "true"\n    target: {event: first_touch',
     'applies_when: "score.total > 1.0"\n    target: {event: first_touch',
     "sla[0].applies_when", "SLA policy first-touch", "unknown variable score", "lead, source, team"),
]  # fmt: skip


KIND_IDS = [
    "compare-int-with-string", "unknown-field", "add-string-to-double", "mix-int-and-double",
    "never-equal", "unknown-function", "string-method-on-int", "not-a-condition", "unknown-variable",
    "operand-of-and", "in-wrong-element", "second-rule", "team-match", "sla-applies-when",
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "where", "label", "message", "fix"), KINDS, ids=KIND_IDS)
def test_each_kind_of_type_error_is_refused_with_its_line(
    tmp_path: Path, old: str, new: str, where: str, label: str, message: str, fix: str
) -> None:
    path, line = _broken(tmp_path, old, new)
    first_line_of_new = new.splitlines()[0]
    shown = " ".join(first_line_of_new.split())

    code, output = _check(path)

    assert code == 1, output
    assert "CEL type errors" in output
    [error] = [row for row in output.splitlines() if f"{path}:" in row]
    assert error.strip().startswith(f"{path}:{line}: {where} ({label}): `"), error
    assert shown.removeprefix("applies_when: ").strip('"') in error
    assert message in error and "Fix: " in error and fix in error.split("Fix: ", 1)[1], error


def test_fit_rule_in_a_template_is_checked_against_lead_and_account(tmp_path: Path) -> None:
    text = (EXAMPLES / "rules" / "bant.yaml").read_text(encoding="utf-8")
    old = '{name: mid-market-plus, when: "has(lead.employees) && lead.employees >= 200"'
    new = '{name: mid-market-plus, when: "score.fit > 1.0 && lead.employees >= 200.5"'
    assert text.count(old) == 1
    path = tmp_path / "bant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if old in row)

    code, output = _check(path)

    # Fit rules run before the score exists: `score` is unknown there. 200.5 vs an int is fine (CEL
    # compares numbers of different kinds).
    assert code == 1
    errors = [row.strip() for row in output.splitlines() if f"{path}:" in row]
    assert errors == [
        f"{path}:{line}: scoring.fit[1].when (fit rule mid-market-plus): `score.fit > 1.0 && "
        "lead.employees >= 200.5`: unknown variable score. Fix: expressions here see: lead, account"
    ]


def test_a_folded_block_expression_reports_the_line_of_its_key(tmp_path: Path) -> None:
    text = (EXAMPLES / "rules" / "bant.yaml").read_text(encoding="utf-8")
    old = "&& has(lead.custom.timeline_days) && lead.custom.timeline_days <= 90"
    assert text.count(old) == 1
    broken = text.replace(old, old + " && lead.title > 3")
    path = tmp_path / "bant.yaml"
    path.write_text(broken, encoding="utf-8")
    lines = broken.splitlines()
    name_line = next(i for i, row in enumerate(lines, start=1) if "name: bant-complete" in row)
    when_line = next(i for i, row in enumerate(lines, start=1) if i > name_line and "when: >-" in row)

    code, output = _check(path)

    assert code == 1
    assert f"{path}:{when_line}: qualification.rules[2].when (rule bant-complete):" in output
    assert "lead.title is a string and 3 is an int: > is not defined between them" in output


def test_every_error_is_listed_not_only_the_first(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, GMAIL, 'lead.employees > "big" || lead.nope == 1')

    code, output = _check(path)

    assert code == 1
    rows = [r for r in output.splitlines() if f"{path}:{line}:" in r]
    assert len(rows) == 2 and "> is not defined" in rows[0] and "no field nope" in rows[1]


@pytest.mark.parametrize(
    "template", ["leadrelay.yaml", "rules/bant.yaml", "rules/meddic.yaml", "rules/champ.yaml"]
)
def test_shipped_templates_pass_the_type_check(template: str) -> None:
    code, output = _check(EXAMPLES / template)

    assert code == 0, output
    assert output.startswith("ok ")


def test_hot_reload_refuses_a_type_error_and_keeps_the_running_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(EXAMPLE_TEXT, encoding="utf-8")
    applied: list[str] = []
    reloader = ConfigReloader(path, lambda config, router: applied.append(config.qualification.version))
    broken, line = _broken(tmp_path, GMAIL, 'lead.employees > "big"')
    path.write_text(broken.read_text(encoding="utf-8"), encoding="utf-8")

    assert reloader.reload() is False
    assert applied == []
    assert reloader.refused is not None and f"{path}:{line}: qualification.rules[0].when" in reloader.refused


def test_the_service_refuses_to_start_on_a_type_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.router.bootstrap import bootstrap

    path, line = _broken(tmp_path, GMAIL, "lead.no_such_field == 1")
    monkeypatch.setenv("LEADRELAY_CONFIG", str(path))

    with pytest.raises(ConfigError, match=rf"{path}:{line}: .*lead has no field no_such_field"):
        bootstrap(RouterSettings())


def test_runtime_agrees_with_the_checker_on_what_fails() -> None:
    """What the checker calls an error on every lead is one at run time (the Rust cel crate)."""
    context = {
        "lead": {
            "email": "a@b.example",
            "employees": 5,
            "title": "CFO",
            "signals": ["x"],
            "utm": {},
            "custom": {},
        },
        "source": "api",
        "score": {"total": 1.0, "fit": 1.0, "engagement": 0.0},
        "account": {},
        "profile": {"submissions": 1, "free_mail": False},
    }
    failing = ['lead.employees > "big"', 'score.fit + "x" == "y"', "score.fit + 10 > 20.0"]
    failing += ['lead.title.lowerAscii() == "cfo"', 'lead.employees.startsWith("1")']
    failing += ["lead.employees && true", "lead.no_such_field == 1", "scores.total > 1.0"]
    for expression in failing:
        assert check_expression(parse(expression), expression, RULE_CONTEXT), expression
        with pytest.raises((ValueError, TypeError, KeyError, RuntimeError)):
            cel.compile(expression).execute(context)
    for expression in ('lead.employees == "big"', "1 in lead.signals"):  # never true, never an error
        assert check_expression(parse(expression), expression, RULE_CONTEXT), expression
        assert cel.compile(expression).execute(context) is False
    for expression in (
        "score.total >= 60",
        "has(lead.custom.x) && lead.custom.x > 1",
        "lead.employees >= 5.5",
    ):
        assert check_expression(parse(expression), expression, RULE_CONTEXT) == [], expression
        cel.compile(expression).execute(context)


def _cel_type(value: Any) -> str:
    return str(cel.evaluate("type(v)", {"v": value}))


def _assert_declared(declared: CelType, value: Any, path: str) -> None:
    """The value the code put in the context has the declared CEL type (records field by field)."""
    if declared.name == "record":
        assert isinstance(value, dict), path
        names = {n for n, _ in declared.fields}
        assert set(value) <= names, f"{path}: undeclared {set(value) - names}"
        for name, f in declared.fields:
            if name not in value:
                assert f.optional, f"{path}.{name} is declared present but the code left it out"
            elif value[name] is None:
                assert f.nullable, f"{path}.{name} is null"
            else:
                _assert_declared(f.type, value[name], f"{path}.{name}")
        return
    assert _cel_type(value) == declared.name, f"{path}: declared {declared.name}, is {_cel_type(value)}"
    if declared.name == "list" and declared.elem is not None and declared.elem.name != "dyn":
        for item in value:
            _assert_declared(declared.elem, item, f"{path}[]")
    if declared.name == "map" and declared.elem is not None and declared.elem.name != "dyn":
        for item in value.values():
            _assert_declared(declared.elem, item, f"{path}{{}}")


def test_declared_context_is_what_the_router_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    evaluate = RuleSet.evaluate_context

    def spy(self: RuleSet, context: Any) -> Any:
        seen.append(context.variables if isinstance(context, cel.Context) else dict(context))
        return evaluate(self, context)

    monkeypatch.setattr(RuleSet, "evaluate_context", spy)
    router = Router.from_config(load_config(EXAMPLES / "rules" / "bant.yaml"))
    every_field = LeadData(
        email="cfo@northwind.example", first_name="A", last_name="B", company="Northwind", title="CFO",
        phone="+1 555", country="us", employees=800, annual_revenue=1e6, industry="software",
        product_line="core", campaign="spring", consent=True, signals=["demo_request"],
        utm={"utm_source": "g"}, custom={"budget": 50000},
    )  # fmt: skip
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    for lead in (every_field, LeadData(email="x@gmail.com")):
        router.assess("l", "e", lead, "api", at, None)
    assert set(LeadData.model_fields) == {n for n, _ in RULE_CONTEXT["lead"].fields}
    assert len(seen) == 2
    for context in seen:
        assert set(context) == set(RULE_CONTEXT)
        for name, declared in RULE_CONTEXT.items():
            _assert_declared(declared, context[name], name)
    assert seen[0]["account"] and seen[0]["lead"].keys() == set(LeadData.model_fields)


def test_sla_context_is_what_the_sla_service_builds() -> None:
    from services.router.qualification import cel_context

    context = {**cel_context(LeadData(email="a@b.example", employees=3), "api"), "team": "t"}
    assert set(context) == set(SLA_CONTEXT)
    for name, declared in SLA_CONTEXT.items():
        _assert_declared(declared, context[name], name)


def test_load_checked_returns_the_config_for_a_good_file() -> None:
    config = load_checked(EXAMPLES / "rules" / "champ.yaml")

    assert config.qualification.rules


def test_up_refuses_a_type_error_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, line = _broken(tmp_path, GMAIL, "score.total")
    monkeypatch.setenv("LEADRELAY_CONFIG", str(path))

    result = CliRunner().invoke(app, ["up"])

    assert result.exit_code == 1
    assert f"{path}:{line}: qualification.rules[0].when" in result.output
