"""Type-check every CEL expression of a config file, with the YAML line each one is on.

`load_checked` is what `rules check`, the router's start and its hot reload use: the schema and
the syntax (shared/config), then the types (here). A file with a type error is refused like one
with a syntax error: `file:line: where (rule NAME): `expression`: what. Fix: how`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from services.router.qualification.cel_ast import CelSyntaxUnsupported, parse
from services.router.qualification.cel_types import FIT_CONTEXT, RULE_CONTEXT, SLA_CONTEXT, CelType
from services.router.qualification.typecheck import check_expression
from shared.config import ConfigError, LeadRelayConfig, load_config


@dataclass(frozen=True)
class TypeError_:
    """One type problem: where it is in the file, and what to do."""

    file: str
    line: int
    where: str  # qualification.rules[2].when
    label: str  # rule bant-complete
    expression: str
    message: str
    fix: str

    def __str__(self) -> str:
        shown = " ".join(self.expression.split())
        if len(shown) > 120:
            shown = shown[:117] + "..."
        where = f"{self.file}:{self.line}: {self.where} ({self.label})"
        return f"{where}: `{shown}`: {self.message}. Fix: {self.fix}"


def expressions(config: LeadRelayConfig) -> list[tuple[tuple[str | int, ...], str, str, dict[str, CelType]]]:
    """Every CEL expression of the config: its path, a label, the text and what it sees."""
    found: list[tuple[tuple[str | int, ...], str, str, dict[str, CelType]]] = []
    for i, rule in enumerate(config.qualification.rules):
        found.append((("qualification", "rules", i, "when"), f"rule {rule.name}", rule.when, RULE_CONTEXT))
    for i, team in enumerate(config.routing.teams):
        if team.match is not None:
            found.append((("routing", "teams", i, "match"), f"team {team.name}", team.match, RULE_CONTEXT))
    for i, fit in enumerate(config.scoring.fit):
        found.append((("scoring", "fit", i, "when"), f"fit rule {fit.name}", fit.when, FIT_CONTEXT))
    for i, policy in enumerate(config.sla):
        label = f"SLA policy {policy.name}"
        found.append((("sla", i, "applies_when"), label, policy.applies_when, SLA_CONTEXT))
    return found


def type_errors(config: LeadRelayConfig, text: str, filename: str) -> list[TypeError_]:
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # the config parsed already; lines are a courtesy
        root = None
    errors: list[TypeError_] = []
    for path, label, expression, context in expressions(config):
        try:
            tree = parse(expression)
        except (CelSyntaxUnsupported, RecursionError):
            continue  # the runtime compiled it; not typed here (see cel_ast)
        where = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
        line = _line(root, path)
        errors.extend(
            TypeError_(filename, line, where, label, expression, p.message, p.fix)
            for p in check_expression(tree, expression, context)
        )
    return errors


def check_config(config: LeadRelayConfig, text: str, filename: str) -> None:
    """Raise ConfigError listing every type error, or return."""
    errors = type_errors(config, text, filename)
    if errors:
        raise ConfigError("CEL type errors:\n  " + "\n  ".join(str(e) for e in errors))


def load_checked(path: Path | str) -> LeadRelayConfig:
    """load_config, then the CEL type check. Raises ConfigError with every problem."""
    config = load_config(path)
    check_config(config, Path(path).read_text(encoding="utf-8"), str(path))
    return config


def _line(node: yaml.Node | None, path: tuple[str | int, ...]) -> int:
    line = 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, int(child.start_mark.line) + 1
    return line  # a block scalar (`when: >-`) starts on its key's line
