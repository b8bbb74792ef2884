"""`leadrelay rules check`: ok for a good config, exit 1 with file and line for a bad one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "leadrelay.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
GMAIL_RULE = 'lead.email.endsWith("@gmail.com") || '


@pytest.fixture(autouse=True)
def clean_env_wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LEADRELAY_* from the calling shell; and Rich wraps at 80 columns when not on a terminal,
    so widen it to keep `file:line:` on one line."""
    for name in [n for n in os.environ if n.upper().startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "1000")


def _check(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["rules", "check", *args])
    return result.exit_code, result.output, result.exception


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """Write the example with one substitution; return the file and the 1-based line changed."""
    assert EXAMPLE_TEXT.count(old) == 1
    text = EXAMPLE_TEXT.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if new in row)
    return path, line


def test_example_config_is_ok() -> None:
    code, output, _ = _check("--config", str(EXAMPLE))

    assert code == 0, output
    assert output.startswith("ok ")
    assert str(EXAMPLE) in output
    assert "ruleset 2026-11-22.1, 2 rules, 2 teams, 6 reps" in output


def test_default_path_comes_from_leadrelay_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(EXAMPLE_TEXT, encoding="utf-8")
    monkeypatch.setenv("LEADRELAY_CONFIG", str(path))

    code, output, _ = _check()

    assert code == 0, output
    assert f"ok {path}" in output


def test_broken_outcome_exits_1_with_file_and_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, "outcome: qualified", "outcome: hot")

    code, output, _ = _check("--config", str(path))

    assert code == 1
    assert "error:" in output
    assert f"{path}:{line}:" in output
    assert "Fix:" in output
    assert not output.startswith("ok")


def test_broken_cel_exits_1_with_the_line_of_the_when(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, GMAIL_RULE, "lead.email ==  || ")

    code, output, _ = _check("--config", str(path))

    assert code == 1
    assert f"{path}:{line}: qualification.rules[0].when" in output
    assert "CEL" in output


def test_invalid_yaml_exits_1_with_file_and_a_line_number(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("qualification:\n  rules: [\n routing: {\n", encoding="utf-8")

    code, output, _ = _check("--config", str(path))

    assert code == 1
    assert re.search(rf"{re.escape(str(path))}:\d+: not valid YAML", output), output


def test_missing_file_exits_1_and_names_leadrelay_config(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    code, output, _ = _check("--config", str(path))

    assert code == 1
    assert str(path) in output
    assert "LEADRELAY_CONFIG" in output


# Config errors echo the offending CEL expression, and CEL uses square brackets (lists, indexing,
# regex character classes). The CLI must print that text as-is, not read it as Rich console markup.


def test_error_text_with_square_brackets_is_printed_verbatim(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, GMAIL_RULE, 'lead.email.matches("^[a-z]+@corp.com$") && || ')

    code, output, _ = _check("--config", str(path))

    assert code == 1
    assert f"{path}:{line}:" in output
    assert 'lead.email.matches("^[a-z]+@corp.com$")' in output


def test_error_text_that_looks_like_a_closing_tag_does_not_crash(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, GMAIL_RULE, "lead.email in [/gmail] && || ")

    code, output, exception = _check("--config", str(path))

    assert isinstance(exception, SystemExit), repr(exception)
    assert code == 1
    assert f"{path}:{line}:" in output


BANT = str(EXAMPLE.parent / "rules" / "bant.yaml")
BANT_LEAD = (
    '{"email":"cfo@northwind.example","title":"CFO","employees":800,"country":"US",'
    '"signals":["demo_request"],"custom":{"budget":50000,"timeline_days":30}}'
)


def test_check_takes_the_file_as_an_argument() -> None:
    code, output, _ = _check(BANT)

    assert code == 0, output
    assert "ruleset bant-1" in output


def test_rules_test_explains_a_bant_lead() -> None:
    result = CliRunner().invoke(
        app, ["rules", "test", BANT, "--lead", BANT_LEAD, "--at", "2026-03-02T15:00:00"]
    )

    assert result.exit_code == 0, result.output
    assert "qualified by rule bant-complete" in result.output
    assert "score 80.0 = fit 45.0 + engagement 35.0" in result.output
    assert "account Northwind (by domain, owner sara)" in result.output
    assert "owner: sara" in result.output


def test_rules_test_json_shows_a_rule_error_without_failing(tmp_path: Path) -> None:
    lead = '{"email":"x@acme.io","custom":{"budget":"lots","timeline_days":10}}'
    result = CliRunner().invoke(app, ["rules", "test", BANT, "--lead", lead, "--json"])

    assert result.exit_code == 0, result.output
    record = __import__("json").loads(result.output)
    assert record["outcome"] == "nurtured"
    assert [e["rule"] for e in record["errors"]] == ["no-budget"]  # "lots" < 5000: a type error
    assert record["ruleset_version"] == "bant-1"


def test_rules_test_refuses_a_bad_lead() -> None:
    result = CliRunner().invoke(app, ["rules", "test", BANT, "--lead", '{"email": "nope"}'])

    assert result.exit_code == 1
    assert "--lead" in result.output
