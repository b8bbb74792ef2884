"""docs/routing.md stays true: its CEL context table is the declared one, and the `rules test`
and `rules check` outputs it shows are what the commands print today."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.router.qualification.cel_types import context_table

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "routing.md").read_text(encoding="utf-8")
BANT_LEAD = (
    '{"email":"cfo@northwind.example","title":"CFO","employees":800,"country":"US",'
    '"signals":["demo_request"],"custom":{"budget":50000,"timeline_days":30}}'
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "110")


def test_the_context_table_is_the_declared_context() -> None:
    found = re.search(r"<!-- cel-context:start[^>]*-->\n(.*?)<!-- cel-context:end -->", DOC, re.DOTALL)

    assert found is not None
    assert found.group(1) == context_table()


def test_the_decision_record_shown_is_what_rules_test_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["rules", "test", "examples/rules/bant.yaml", "--lead", BANT_LEAD, "--at", "2026-03-02T15:00:00"]
    monkeypatch.chdir(ROOT)  # the path in the command is relative, as in the doc
    tree = CliRunner().invoke(app, args)
    record = CliRunner().invoke(app, [*args, "--json"])

    assert tree.exit_code == 0 and record.exit_code == 0
    assert tree.output.strip() in DOC
    shown = re.search(r"```json\n(.*?)```", DOC, re.DOTALL)
    assert shown is not None
    assert json.loads(shown.group(1)) == json.loads(record.output)


def test_the_check_errors_shown_are_what_rules_check_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "examples" / "rules" / "bant.yaml").read_text(encoding="utf-8")
    broken = (
        text.replace('"profile.free_mail"', '"profile.free_mail && lead.no_such_field == 1"')
        .replace('lead.custom.budget < 5000"', "lead.custom.budget < 5000 && lead.employees > 'big'\"")
        .replace("score.total >= 60.0", "score.total + 10 >= 60.0")
    )
    (tmp_path / "bant-broken.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"COLUMNS": "1000"}).invoke(app, ["rules", "check", "bant-broken.yaml"])

    assert result.exit_code == 1
    assert result.output.count("bant-broken.yaml:") == 3
    assert result.output in DOC
