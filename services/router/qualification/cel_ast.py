"""A CEL parser for static checks: expression text → a small AST with source offsets.

The runtime (`common-expression-language`, the Rust cel crate) compiles and evaluates but exposes
no AST and no type checker, so `rules check` parses here to type the expressions before any lead
arrives. The grammar is CEL's (github.com/google/cel-spec, langdef.md) without message
construction (`Type{field: v}`), which configs never need: an expression this parser refuses is
left to the runtime (it has already been compiled there), never reported as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any


class CelSyntaxUnsupported(ValueError):
    """Not parsed here (the runtime compiled it): the expression is not type-checked."""


@dataclass(frozen=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True)
class Lit(Node):
    kind: str  # int, uint, double, string, bytes, bool, null
    value: Any


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Select(Node):
    operand: Node
    field: str


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    target: Node | None
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class MapLit(Node):
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond(Node):
    test: Node
    then: Node
    otherwise: Node


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>[rRbB]{0,2}(?:
        '''(?:\\.|[^\\])*?'''
      | \"\"\"(?:\\.|[^\\])*?\"\"\"
      | '(?:\\.|[^'\\\n])*'
      | "(?:\\.|[^"\\\n])*"))
  | (?P<double>\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<uint>(?:0[xX][0-9a-fA-F]+|\d+)[uU])
  | (?P<int>0[xX][0-9a-fA-F]+|\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%?:.,\[\](){}])
    """,
    re.VERBOSE | re.DOTALL,
)
_RELATIONS = {"==", "!=", "<", "<=", ">", ">=", "in"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def _tokens(source: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise CelSyntaxUnsupported(f"unexpected character at {pos}")
        kind = m.lastgroup or ""
        if kind != "space":
            text = m.group()
            if kind == "ident" and text == "in":
                kind = "op"
            out.append(_Tok(kind, text, m.start(), m.end()))
        pos = m.end()
    out.append(_Tok("end", "", len(source), len(source)))
    return out


def parse(source: str) -> Node:
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _tokens(source)
        self.i = 0

    def parse(self) -> Node:
        node = self.expr()
        self._expect("end")
        return node

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _at(self, *texts: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in texts

    def _expect(self, what: str) -> _Tok:
        tok = self.tok
        if (tok.kind == "op" and tok.text == what) or tok.kind == what:
            return self._take()
        raise CelSyntaxUnsupported(f"expected {what!r} at {tok.start}")

    def expr(self) -> Node:
        test = self._binary(0)
        if not self._at("?"):
            return test
        self._take()
        then = self._binary(0)
        self._expect(":")
        otherwise = self.expr()
        return Cond(test.start, otherwise.end, test, then, otherwise)

    # Precedence levels, loosest first; each is left-associative.
    _LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"||"}),
        frozenset({"&&"}),
        frozenset(_RELATIONS),
        frozenset({"+", "-"}),
        frozenset({"*", "/", "%"}),
    )

    def _binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while self.tok.kind == "op" and self.tok.text in self._LEVELS[level]:
            op = self._take().text
            right = self._binary(level + 1)
            left = Binary(left.start, right.end, op, left, right)
        return left

    def _unary(self) -> Node:
        if self._at("!", "-"):
            tok = self._take()
            operand = self._unary()
            return Unary(tok.start, operand.end, tok.text, operand)
        return self._member()

    def _member(self) -> Node:
        node = self._primary()
        while True:
            if self._at("."):
                self._take()
                name = self._expect("ident")
                if self._at("("):
                    args, end = self._args(")")
                    node = Call(node.start, end, name.text, node, args)
                else:
                    node = Select(node.start, name.end, node, name.text)
            elif self._at("["):
                self._take()
                index = self.expr()
                end = self._expect("]").end
                node = Index(node.start, end, node, index)
            else:
                return node

    def _args(self, close: str) -> tuple[tuple[Node, ...], int]:
        self._take()  # the opening bracket
        items: list[Node] = []
        while not self._at(close):
            items.append(self.expr())
            if not self._at(close):
                self._expect(",")
        return tuple(items), self._take().end

    def _primary(self) -> Node:
        tok = self._take()
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                return Lit(tok.start, tok.end, "bool", tok.text == "true")
            if tok.text == "null":
                return Lit(tok.start, tok.end, "null", None)
            if self._at("("):
                args, end = self._args(")")
                return Call(tok.start, end, tok.text, None, args)
            if self._at("{"):
                raise CelSyntaxUnsupported("message construction")
            return Ident(tok.start, tok.end, tok.text)
        if tok.kind in ("int", "uint", "double"):
            return Lit(tok.start, tok.end, tok.kind, tok.text)
        if tok.kind == "string":
            prefix = tok.text[: len(tok.text) - len(tok.text.lstrip("rRbB"))]
            kind = "bytes" if "b" in prefix.lower() else "string"
            body = tok.text[len(prefix) :]
            quote = 3 if body[:3] in ("'''", '"""') else 1
            return Lit(tok.start, tok.end, kind, body[quote:-quote])
        if tok.kind == "op" and tok.text == "(":
            inner = self.expr()
            end = self._expect(")").end
            # Keep the parentheses in the span, so messages quote what was written.
            return _respan(inner, tok.start, end)
        if tok.kind == "op" and tok.text == "[":
            self.i -= 1
            items, end = self._args("]")
            return ListLit(tok.start, end, items)
        if tok.kind == "op" and tok.text == "{":
            return self._map(tok.start)
        if tok.kind == "op" and tok.text == ".":
            name = self._expect("ident")  # a leading dot: the root namespace
            return Ident(tok.start, name.end, name.text)
        raise CelSyntaxUnsupported(f"unexpected {tok.text!r} at {tok.start}")

    def _map(self, start: int) -> Node:
        entries: list[tuple[Node, Node]] = []
        while not self._at("}"):
            key = self.expr()
            self._expect(":")
            entries.append((key, self.expr()))
            if not self._at("}"):
                self._expect(",")
        return MapLit(start, self._take().end, tuple(entries))


def _respan(node: Node, start: int, end: int) -> Node:
    return replace(node, start=start, end=end)
