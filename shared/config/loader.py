"""Load the YAML config; a bad file is refused with the file, the line and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shared.config.schema import LeadRelayConfig

_FIXES = {
    "missing": "add this key",
    "extra_forbidden": "remove this key or check its spelling",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "use lowercase letters, digits, '-', '_' or '.'",
    "too_short": "add at least one entry",
}


class ConfigError(ValueError):
    """The config cannot be used; str() lists every problem as `file:line: where: what. Fix: how`."""


def load_config(path: Path | str) -> LeadRelayConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: config file not found. Fix: set LEADRELAY_CONFIG to your config file "
            "(start from examples/leadrelay.yaml)"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}). Fix: save the file as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config file ({exc.strerror or exc}). "
            "Fix: point LEADRELAY_CONFIG at a readable YAML file"
        ) from exc
    return parse_config(text, str(path))


# libyaml's parser when PyYAML was built with it (the PyPI wheels are): about ten times the pure-Python
# one, and every service and test parses the config at start. The same safe constructor and resolver.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - CSafeLoader or SafeLoader
    except yaml.YAMLError:
        # Refused: parse again in pure Python, whose messages and line numbers the errors quote.
        return yaml.safe_load(text)


def parse_config(text: str, filename: str = "<config>") -> LeadRelayConfig:
    try:
        data = _load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ConfigError(
            f"{filename}:{line}: not valid YAML ({getattr(exc, 'problem', exc)}). "
            "Fix: check indentation and quoting on that line"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{filename}:1: the config must be a mapping with qualification: and routing:. "
            "Fix: start from examples/leadrelay.yaml"
        )
    try:
        return LeadRelayConfig.model_validate(data)
    except ValidationError as exc:
        # The node tree (for line numbers) only when there is something to point at.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        problems = [_describe(err, root, filename) for err in exc.errors()]
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems)) from exc


def _describe(err: Any, root: yaml.Node | None, filename: str) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or "(top)"
    message = str(err["msg"]).removeprefix("Value error, ")
    fix = _FIXES.get(err["type"], "correct the value")
    line = _line_of(root, loc)
    duplicate = _DUPLICATE.search(message)
    if duplicate:
        fix = "rename or remove the second one"
        line = _line_of_second(_node_at(root, loc), duplicate.group(1)) or line
    return f"{filename}:{line}: {where}: {message}. Fix: {fix}"


_DUPLICATE = re.compile(r"'([^']*)' appears twice")


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None
    return node


def _line_of_second(node: yaml.Node | None, value: str) -> int | None:
    """Line of the second scalar equal to `value` under `node` (where a duplicate is declared)."""
    seen = 0
    stack = [node] if node is not None else []
    scalars: list[yaml.ScalarNode] = []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode) and current.value == value:
            scalars.append(current)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(v for _, v in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    for scalar in sorted(scalars, key=lambda n: (n.start_mark.line, n.start_mark.column)):
        seen += 1
        if seen == 2:
            return int(scalar.start_mark.line) + 1
    return None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node that `loc` reaches (the parent, for a missing key)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
            if child is None:  # an unknown key: point at the key itself
                child = next((k for k, _ in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line
