"""Static type check of one CEL expression against a declared context.

A small checker over `cel_ast`, written for what the runtime (the Rust cel crate) does: it finds
what would fail on every lead, or never hold, before a lead arrives. Field existence on the lead,
score, account and profile; operand types of comparisons, arithmetic, `&&`/`||`/`!`, `in` and
`?:`; the functions the runtime has and the types they take; a condition that is not a bool.
`lead.custom.*` values are of any type (`dyn`): nothing is reported on them. Like the runtime, it
lets numbers of different kinds be compared (`score.total >= 60`) but not added (`score.fit + 1`).
"""

from __future__ import annotations

from services.router.qualification.cel_ast import (
    Binary,
    Call,
    Cond,
    Ident,
    Index,
    ListLit,
    Lit,
    MapLit,
    Node,
    Select,
    Unary,
)
from services.router.qualification.cel_types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    NUMBERS,
    STRING,
    TIMESTAMP,
    UINT,
    CelType,
    list_of,
    map_of,
)
from services.router.qualification.typecheck_calls import FUNCTIONS, CallChecks, Problem

__all__ = ["FUNCTIONS", "Problem", "check_expression"]

_LITERALS = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bytes": BYTES}
_LITERALS |= {"bool": BOOL, "null": NULL}
_ORDERED = {"string", "bytes", "bool", "timestamp", "duration"}
_ARITHMETIC = {
    "+": {"int", "uint", "double", "string", "bytes", "list", "duration"},
    "-": {"int", "uint", "double", "duration"},
    "*": {"int", "uint", "double"},
    "/": {"int", "uint", "double"},
    "%": {"int", "uint"},
}
_EXAMPLE = {"int": "500", "uint": "500u", "double": "10.0", "string": '"text"', "bool": "true"}


def _compared(text: str, kind: CelType) -> str:
    """A condition made of a value: `lead.employees > 0`, `lead.title != "text"`."""
    return f"{text} > 0" if kind.name in NUMBERS else f"{text} != {_EXAMPLE.get(kind.name, 'null')}"


def check_expression(tree: Node, source: str, context: dict[str, CelType]) -> list[Problem]:
    """Every problem found, in source order; the whole must be a condition (a bool)."""
    checker = _Checker(source, context)
    result = checker.type_of(tree)
    if result.name not in ("bool", "dyn") and not checker.problems:
        checker.report(
            tree,
            f"the expression gives {result.describe()}, not true or false",
            f"make it a condition, e.g. compare it: {_compared(checker.text(tree), result)}",
        )
    return sorted(checker.problems, key=lambda p: p.start)


def _compatible(a: CelType, b: CelType) -> bool:
    """Values of these types can be equal (CEL's == is false across types, never an error)."""
    if "dyn" in (a.name, b.name) or "null" in (a.name, b.name):
        return True
    if a.name in NUMBERS and b.name in NUMBERS:
        return True
    if a.name == "record" or b.name == "record":
        return a.name in ("record", "map") and b.name in ("record", "map")
    return a.name == b.name


class _Checker(CallChecks):
    def type_of(self, node: Node) -> CelType:
        if isinstance(node, Lit):
            return _LITERALS[node.kind]
        if isinstance(node, Ident):
            return self._ident(node)
        if isinstance(node, Select):
            return self._field(node, self.type_of(node.operand), node.field)
        if isinstance(node, Index):
            return self._index(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, ListLit):
            items = [self.type_of(i) for i in node.items]
            same = {t for t in items}
            return list_of(items[0] if len(same) == 1 else DYN)
        if isinstance(node, MapLit):
            keys = {self.type_of(k) for k, _ in node.entries}
            values = {self.type_of(v) for _, v in node.entries}
            return map_of(keys.pop() if len(keys) == 1 else DYN, values.pop() if len(values) == 1 else DYN)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Cond):
            self._condition(node.test, "?:")
            then, otherwise = self.type_of(node.then), self.type_of(node.otherwise)
            if not _compatible(then, otherwise):  # as CEL's own checker: both branches of one type
                return self.report(
                    node,
                    f"{self.what(node.then, then)} and {self.what(node.otherwise, otherwise)}: "
                    "the two branches of ?: differ",
                    "give both branches the same type",
                )
            return then if then == otherwise or otherwise.name in ("dyn", "null") else otherwise
        return DYN

    def _ident(self, node: Ident) -> CelType:
        for scope in reversed(self.scopes):
            if node.name in scope:
                return scope[node.name]
        known = ", ".join(self.scopes[0])
        return self.report(node, f"unknown variable {node.name}", f"expressions here see: {known}")

    def _field(self, node: Node, owner: CelType, name: str) -> CelType:
        if owner.name in ("dyn", "map"):
            return (owner.elem or DYN) if owner.name == "map" else DYN
        operand = node.operand if isinstance(node, (Select, Index)) else node
        if owner.name != "record":
            return self.report(
                node,
                f"{self.what(operand, owner)} and has no field {name}",
                "read fields of the lead, score, account or profile, or of lead.custom / lead.utm",
            )
        found = owner.field(name)
        if found is None:
            known = ", ".join(n for n, _ in owner.fields)
            fix = f"use one of: {known}"
            if owner.field("custom") is not None:
                fix += f"; a form field of your own is lead.custom.{name} (map it in the source's field_map)"
            return self.report(node, f"{self.text(operand)} has no field {name}", fix)
        return found.type

    def _index(self, node: Index) -> CelType:
        owner, index = self.type_of(node.operand), self.type_of(node.index)
        if owner.name == "record" and isinstance(node.index, Lit) and node.index.kind == "string":
            return self._field(node, owner, str(node.index.value))
        if owner.name == "list":
            if index.name not in ("int", "uint", "dyn"):
                return self.report(node.index, f"{self.what(node.index, index)}", "index a list with an int")
            return owner.elem or DYN
        if owner.name in ("map", "record", "dyn"):
            return (owner.elem or DYN) if owner.name == "map" else DYN
        return self.report(
            node, f"{self.what(node.operand, owner)} and cannot be indexed", "index a list or a map"
        )

    def _condition(self, node: Node, where: str) -> None:
        kind = self.type_of(node)
        if kind.name not in ("bool", "dyn"):
            example = _compared(self.text(node), kind)
            self.report(
                node,
                f"{self.what(node, kind)}, not a condition ({where} needs true or false)",
                f"compare it, e.g. {example}",
            )

    def _unary(self, node: Unary) -> CelType:
        if node.op == "!":
            self._condition(node.operand, "!")
            return BOOL
        kind = self.type_of(node.operand)
        if kind.name not in (*NUMBERS, "dyn", "duration"):
            return self.report(
                node, f"{self.what(node.operand, kind)}: it cannot be negated", "negate a number"
            )
        return kind

    def _binary(self, node: Binary) -> CelType:
        if node.op in ("&&", "||"):
            self._condition(node.left, node.op)
            self._condition(node.right, node.op)
            return BOOL
        left, right = self.type_of(node.left), self.type_of(node.right)
        if "dyn" in (left.name, right.name) and node.op not in ("in",):
            return BOOL if node.op in ("==", "!=", "<", "<=", ">", ">=") else DYN
        if node.op in ("==", "!="):
            if not _compatible(left, right):
                self._mismatch(
                    node,
                    left,
                    right,
                    f"they are never equal ({node.op} is always {'false' if node.op == '==' else 'true'})",
                )
            return BOOL
        if node.op in ("<", "<=", ">", ">="):
            numeric = left.name in NUMBERS and right.name in NUMBERS
            if not numeric and not (left.name == right.name and left.name in _ORDERED):
                self._mismatch(
                    node, left, right, f"{node.op} is not defined between them (an error on every lead)"
                )
            return BOOL
        if node.op == "in":
            return self._in(node, left, right)
        return self._arithmetic(node, left, right)

    def _mismatch(self, node: Binary, left: CelType, right: CelType, consequence: str) -> None:
        # Name the side that is a field, not a literal: that is what the author has to know.
        field, other = (node.right, left) if isinstance(node.left, Lit) else (node.left, right)
        kind = right if field is node.right else left
        if kind.name in NUMBERS:
            wanted = "a number"
        elif kind.name in ("list", "map", "record"):
            wanted = "another " + kind.name
        else:
            wanted = kind.describe()
        other_node = node.left if field is node.right else node.right
        self.report(
            node,
            f"{self.what(field, kind)} and {self.what(other_node, other)}: {consequence}",
            f"{self.text(field)} is {kind.describe()}; compare it with {wanted}",
        )

    def _in(self, node: Binary, left: CelType, right: CelType) -> CelType:
        if right.name == "dyn":
            return BOOL
        if right.name == "list":
            elem = right.elem or DYN
            if left.name != "dyn" and not _compatible(left, elem):
                self.report(
                    node,
                    f"{self.what(node.left, left)} and {self.what(node.right, right)}: "
                    "it is never in it (always false)",
                    f"{self.text(node.right)} holds {elem.plural()}; look for {elem.describe()}",
                )
            return BOOL
        if right.name in ("map", "record"):
            key = (right.key or DYN) if right.name == "map" else STRING
            if left.name not in ("int", "uint", "bool", "string", "dyn"):
                self.report(
                    node,
                    f"{self.what(node.left, left)}: it cannot be a map key (an error on every lead)",
                    f"look for a key ({key.describe()}) in {self.text(node.right)}",
                )
            elif not _compatible(left, key):
                self.report(
                    node,
                    f"{self.what(node.left, left)} and the keys of {self.text(node.right)} are "
                    f"{key.plural()}: it is never in it (always false)",
                    f"look for {key.describe()}",
                )
            return BOOL
        return self.report(
            node,
            f"{self.what(node.right, right)}: `in` needs a list or a map on its right",
            'write x in ["a", "b"]',
        )

    def _arithmetic(self, node: Binary, left: CelType, right: CelType) -> CelType:
        op = node.op
        if left.name == "timestamp" and right.name == "duration" and op in "+-":
            return TIMESTAMP
        if left.name == "duration" and right.name == "timestamp" and op == "+":
            return TIMESTAMP
        if left.name == right.name == "timestamp" and op == "-":
            return DURATION
        if left.name == right.name and left.name in _ARITHMETIC[op]:
            return left if left.name != "list" else list_of((left.elem or DYN) if left == right else DYN)
        if left.name in NUMBERS and right.name in NUMBERS:
            return self.report(
                node,
                f"{self.what(node.left, left)} and {self.what(node.right, right)}: CEL does not mix "
                f"int and double in {op} (an error on every lead)",
                f"make both {left.name}s, e.g. {self.text(node.left)} {op} {_EXAMPLE[left.name]}, "
                f"or convert with {left.name}(...)",
            )
        if op == "+" and {left.name, right.name} == {"list", "map"}:
            return self.report(
                node,
                f"{self.what(node.left, left)} and {self.what(node.right, right)}: + between a list and "
                "a map is not CEL (this runtime appends the map's keys)",
                "add two lists: [a] + [b]",
            )
        field, kind = (node.right, right) if isinstance(node.left, Lit) else (node.left, left)
        allowed = "numbers" if op != "+" else "numbers, strings or lists of the same type"
        return self.report(
            node,
            f"{self.what(node.left, left)} and {self.what(node.right, right)}: {op} is not defined "
            "between them (an error on every lead)",
            f"{self.text(field)} is {kind.describe()}; {op} takes two {allowed}",
        )
