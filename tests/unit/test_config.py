"""Config loading: the example loads; a bad file is refused with file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import ConfigError, LeadRelayConfig, load_config, parse_config

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "leadrelay.yaml"

# Line numbers matter below: line 1 is "version: 1".
VALID = """\
version: 1
qualification:
  version: "t1"
  rules:
    - name: big
      when: 'has(lead.employees) && lead.employees >= 50'
      outcome: qualified
    - name: gmail
      when: 'lead.email.endsWith("@gmail.com")'
      outcome: disqualified
  default: nurtured
routing:
  teams:
    - name: amer
      timezone: America/New_York
      match: 'has(lead.country) && lead.country == "US"'
      reps:
        - {id: ana, name: Ana}
        - {id: ben, name: Ben}
    - name: rest
      reps:
        - {id: cleo, name: Cleo}
"""


def _line_of(text: str, needle: str) -> int:
    """1-based line number of the only line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


def _refused(text: str, filename: str = "test.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, filename)
    return str(info.value)


def _assert_points_at(message: str, line: int, *fragments: str) -> None:
    assert f"test.yaml:{line}:" in message, message
    assert "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def _reported_line(message: str) -> int:
    location = next(part for part in message.split() if part.startswith("test.yaml:"))
    return int(location.split(":")[1])


def _assert_points_at_second(message: str, text: str, declaration: str, *fragments: str) -> None:
    """A duplicate is reported on the line that declares it the second time."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if declaration in line]
    assert len(lines) >= 2, f"the test text should declare {declaration!r} twice"
    _assert_points_at(message, lines[1], *fragments)


# --- what loads -----------------------------------------------------------------------


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)

    assert isinstance(config, LeadRelayConfig)
    assert [r.name for r in config.qualification.rules] == ["free-email-domain", "icp-fit"]
    assert config.qualification.default == "nurtured"
    assert [t.name for t in config.routing.teams] == ["inbound-amer", "inbound-emea"]
    farid = config.routing.teams[1].reps[2]
    assert (farid.id, farid.active) == ("farid", False)


def test_small_config_parses_with_defaults() -> None:
    config = parse_config(VALID, "test.yaml")

    assert config.qualification.version == "t1"
    assert list(config.sources) == ["api"]
    rest = config.routing.teams[1]
    assert (rest.timezone, rest.policy, rest.fallback_queue, rest.match) == (
        "UTC",
        "round_robin",
        "unassigned",
        None,
    )


# --- refusals with file, line and fix --------------------------------------------------


def test_invalid_cel_in_when_points_at_that_when_line() -> None:
    text = VALID.replace("""'lead.email.endsWith("@gmail.com")'""", "'lead.email =='")

    message = _refused(text)

    _assert_points_at(message, _line_of(text, "lead.email =="), "qualification.rules[1].when", "CEL")


def test_invalid_cel_in_team_match_points_at_match_line() -> None:
    text = VALID.replace("""lead.country == "US"'""", "lead.country in'")

    message = _refused(text)

    _assert_points_at(message, _line_of(text, "match:"), "routing.teams[0].match", "CEL")


def test_bad_outcome_literal_is_refused_on_its_line() -> None:
    text = VALID.replace("outcome: disqualified", "outcome: rejected")

    message = _refused(text)

    _assert_points_at(
        message,
        _line_of(text, "outcome: rejected"),
        "qualification.rules[1].outcome",
        "use one of the allowed values",
    )


def test_unknown_key_typo_is_refused_on_its_line() -> None:
    text = VALID.replace("  default: nurtured", "  defualt: nurtured")

    message = _refused(text)

    _assert_points_at(message, _line_of(text, "defualt:"), "qualification.defualt", "check its spelling")


def test_unknown_time_zone_is_refused_on_its_line() -> None:
    text = VALID.replace("America/New_York", "Mars/Olympus_Mons")

    message = _refused(text)

    _assert_points_at(
        message, _line_of(text, "Mars/Olympus_Mons"), "routing.teams[0].timezone", "unknown time zone", "IANA"
    )


def test_duplicate_rep_ids_are_refused() -> None:
    text = VALID.replace("{id: cleo, name: Cleo}", "{id: ana, name: Another Ana}")

    message = _refused(text)

    _assert_points_at_second(message, text, "id: ana", "routing", "rep id 'ana' appears twice")


def test_duplicate_rule_names_are_refused() -> None:
    text = VALID.replace("- name: gmail", "- name: big")

    message = _refused(text)

    _assert_points_at_second(message, text, "name: big", "qualification", "rule name 'big' appears twice")


def test_duplicate_team_names_are_refused() -> None:
    text = VALID.replace("- name: rest", "- name: amer")

    message = _refused(text)

    _assert_points_at_second(message, text, "name: amer", "routing", "team name 'amer' appears twice")


def test_empty_rules_list_is_refused() -> None:
    start, end = _line_of(VALID, "rules:"), _line_of(VALID, "outcome: disqualified")
    lines = VALID.splitlines()
    text = "\n".join([*lines[: start - 1], "  rules: []", *lines[end:]]) + "\n"

    message = _refused(text)

    _assert_points_at(message, _line_of(text, "rules: []"), "qualification.rules", "add at least one entry")


def test_missing_section_points_at_parent_and_says_add_it() -> None:
    text = VALID[: VALID.index("routing:")]

    message = _refused(text)

    _assert_points_at(message, 1, "routing", "add this key")


def test_bad_rule_name_pattern_is_refused() -> None:
    text = VALID.replace("- name: gmail", "- name: Gmail Rule")

    message = _refused(text)

    _assert_points_at(message, _line_of(text, "Gmail Rule"), "qualification.rules[1].name", "lowercase")


def test_every_problem_is_listed() -> None:
    text = VALID.replace("outcome: disqualified", "outcome: rejected").replace(
        "America/New_York", "Nowhere/X"
    )

    message = _refused(text)

    assert message.count("Fix:") == 2
    assert f"test.yaml:{_line_of(text, 'outcome: rejected')}:" in message
    assert f"test.yaml:{_line_of(text, 'Nowhere/X')}:" in message


def test_invalid_yaml_names_file_line_and_fix() -> None:
    text = VALID.replace("      outcome: qualified", "      outcome: [qualified")

    message = _refused(text)

    assert message.startswith("test.yaml:")
    assert "not valid YAML" in message
    assert "Fix:" in message
    reported = int(message.split(":")[1])
    assert _line_of(text, "[qualified") <= reported <= _line_of(text, "[qualified") + 2


@pytest.mark.parametrize("text", ["", "just a string\n", "- a\n- b\n"])
def test_non_mapping_document_is_refused(text: str) -> None:
    message = _refused(text)

    _assert_points_at(message, 1, "must be a mapping")


def test_missing_file_mentions_leadrelay_config(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError) as info:
        load_config(missing)

    message = str(info.value)
    assert str(missing) in message
    assert "LEADRELAY_CONFIG" in message
    assert "Fix:" in message


# A path that exists but cannot be read as a config must still be refused as a ConfigError
# (the CLI turns only ConfigError into "error: ... Fix: ..."; anything else is a traceback).


def test_directory_instead_of_a_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)

    assert str(tmp_path) in str(info.value)
    assert "Fix:" in str(info.value)


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace('"t1"', '"caf\xe9"').encode("latin-1"))

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert str(path) in str(info.value)
    assert "Fix:" in str(info.value)


def test_load_config_reports_the_real_file_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(VALID.replace("outcome: disqualified", "outcome: maybe"), encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert f"{path}:{_line_of(VALID, 'outcome: disqualified')}:" in str(info.value)
