"""Function calls in the CEL type check: what the runtime has, on which types, and macros.

The base of the checker lives here too (the problems it collects, how it quotes the source), so
`typecheck.py` keeps the operators and this module the functions, each under ~300 lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.router.qualification.cel_ast import Call, Ident, Node, Select
from services.router.qualification.cel_types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    list_of,
)


@dataclass(frozen=True)
class Problem:
    start: int  # offset in the expression
    message: str
    fix: str


_STRING_METHODS = {"contains", "startsWith", "endsWith", "matches"}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_CONVERSIONS = {
    "int": INT,
    "uint": UINT,
    "double": DOUBLE,
    "string": STRING,
    "bytes": BYTES,
    "timestamp": TIMESTAMP,
    "duration": DURATION,
    "type": TYPE,
    "dyn": DYN,
}
_TIME_GETTERS = {
    "timestamp": {
        "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
        "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    },
    "duration": {"getHours", "getMinutes", "getSeconds", "getMilliseconds"},
}  # fmt: skip
FUNCTIONS = sorted({"has", "size", *_STRING_METHODS, *_MACROS, *_CONVERSIONS})


class CheckerBase:
    def __init__(self, source: str, context: dict[str, CelType]) -> None:
        self.source = source
        self.scopes: list[dict[str, CelType]] = [dict(context)]
        self.problems: list[Problem] = []

    def text(self, node: Node) -> str:
        return " ".join(self.source[node.start : node.end].split())

    def report(self, node: Node, message: str, fix: str) -> CelType:
        self.problems.append(Problem(node.start, message, fix))
        return DYN  # the problem is told once; what contains it is not checked against it

    def what(self, node: Node, kind: CelType) -> str:
        return f"{self.text(node)} is {kind.describe()}"

    # Defined by the checker (typecheck._Checker).
    def type_of(self, node: Node) -> CelType:
        raise NotImplementedError

    def _field(self, node: Node, owner: CelType, name: str) -> CelType:
        raise NotImplementedError

    def _condition(self, node: Node, where: str) -> None:
        raise NotImplementedError


class CallChecks(CheckerBase):
    def _call(self, node: Call) -> CelType:
        name, target = node.function, node.target
        if target is None and name == "has":
            return self._has(node)
        if target is not None and name in _MACROS:
            return self._macro(node, target)
        receiver = self.type_of(target) if target is not None else None
        args = [self.type_of(a) for a in node.args]
        if receiver is not None and receiver.name == "dyn":
            return BOOL if name in _STRING_METHODS else INT if name == "size" else DYN
        if name == "size":
            sized = receiver if receiver is not None else (args[0] if args else DYN)
            if sized.name not in ("string", "bytes", "list", "map", "record", "dyn"):
                shown = target if target is not None else node.args[0] if node.args else node
                return self.report(
                    node,
                    f"{self.what(shown, sized)}: size() needs a string, list or map",
                    "use size() on a string, a list or a map",
                )
            return INT
        if name in _STRING_METHODS:
            if receiver is None or receiver.name != "string":
                said = self.what(target, receiver) if target is not None and receiver else f"{name}() alone"
                return self.report(
                    node,
                    f"{said}: {name}() works on strings",
                    f'call it on a string, e.g. lead.title.{name}("..."), or convert with string(...)',
                )
            for arg_node, arg in zip(node.args, args, strict=True):
                if arg.name not in ("string", "dyn"):
                    self.report(
                        arg_node,
                        f"{self.what(arg_node, arg)}: {name}() takes a string",
                        f'pass a string, e.g. {name}("text")',
                    )
            return BOOL
        if receiver is not None and receiver.name in _TIME_GETTERS and name in _TIME_GETTERS[receiver.name]:
            return INT
        if target is None and name in _CONVERSIONS:
            return _CONVERSIONS[name]
        available = ", ".join(FUNCTIONS)
        on = f" on {receiver.describe()}" if receiver is not None else ""
        return self.report(
            node,
            f"{name}(){on} is not a function of this CEL runtime (an error on every lead)",
            f"use one of: {available}",
        )

    def _has(self, node: Call) -> CelType:
        arg = node.args[0] if len(node.args) == 1 else None
        if not isinstance(arg, Select):
            return self.report(node, f"has() takes one field, not {self.text(node)}", "write has(lead.title)")
        owner = self.type_of(arg.operand)
        self._field(arg, owner, arg.field)
        return BOOL

    def _macro(self, node: Call, target: Node) -> CelType:
        over = self.type_of(target)
        if over.name not in ("list", "map", "dyn"):
            return self.report(
                node,
                f"{self.what(target, over)}: {node.function}() needs a list or a map",
                f"call it on a list, e.g. lead.signals.{node.function}(s, ...)",
            )
        if len(node.args) < 2 or not isinstance(node.args[0], Ident):
            return self.report(
                node,
                f"{node.function}() takes a variable and an expression",
                f"write {self.text(target)}.{node.function}(x, <expression over x>)",
            )
        variable = node.args[0].name
        bound = (over.key if over.name == "map" else over.elem) or DYN
        self.scopes.append({variable: bound})
        try:
            body = node.args[1:]
            if node.function != "map" or len(body) == 2:
                self._condition(body[0], f"{node.function}()")
            result = self.type_of(body[-1]) if node.function == "map" else BOOL
        finally:
            self.scopes.pop()
        if node.function == "map":
            return list_of(result)
        return list_of(bound) if node.function == "filter" else BOOL
