"""Rule text → syntax tree (nodes.py), or a RuleError naming the place. Refuses a text over
MAX_CHARS before parsing and a tree over MAX_DEPTH or MAX_NODES before anything walks it
recursively; the parser and the tree building never recurse, whatever the text."""

from __future__ import annotations

import math
import re
from typing import Any

from lark import Token, Transformer_NonRecursive, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from rules.errors import RuleError
from rules.grammar import parser
from rules.language import MAX_CHARS, MAX_DEPTH, MAX_EXACT_INTEGER, MAX_NODES
from rules.nodes import (
    Binary,
    Call,
    Conditional,
    Field,
    ListLiteral,
    Literal,
    Logical,
    Node,
    Span,
    Unary,
    walk,
)

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_BINARY = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in_": "in",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "mod": "%",
}


def parse(source: str) -> Node:
    """The syntax tree of `source` (no types yet: check.py adds them)."""
    if len(source) > MAX_CHARS:
        raise RuleError(
            f"the rule has {len(source):,} characters, more than the limit of {MAX_CHARS:,}",
            1,
            1,
            source,
        )
    try:
        tree = parser().parse(source)
    except UnexpectedInput as error:
        raise _syntax_error(error, source) from None
    except LarkError as error:  # lark's other errors: still a refused rule, never a crash
        raise RuleError(f"cannot parse the rule: {error}") from None
    try:
        root: Node = _Build(source).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, RuleError):
            raise error.orig_exc from None
        raise
    _check_size(root, source)
    return root


def _syntax_error(error: UnexpectedInput, source: str) -> RuleError:
    line, column = max(error.line, 1), max(error.column, 1)
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = source[position] if position < len(source) else ""
        return RuleError(f"unexpected character {char!r}", line, column, _line_of(source, line))
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        last = source.rstrip().splitlines()[-1:] or [""]
        end_line = len(source.rstrip().splitlines()) or 1
        return RuleError("the rule ends too early", end_line, len(last[0]) + 1, last[0])
    if isinstance(error, UnexpectedToken):
        return RuleError(f"unexpected `{error.token}`", line, column, _line_of(source, line))
    return RuleError("cannot parse the rule", line, column, _line_of(source, line))


def _line_of(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _check_size(root: Node, source: str) -> None:
    for count, (node, depth) in enumerate(walk(root), start=1):
        if depth > MAX_DEPTH:
            raise _at(node, source, f"the rule nests deeper than the limit of {MAX_DEPTH}")
        if count > MAX_NODES:
            raise _at(root, source, f"the rule has more than {MAX_NODES} nodes (the limit)")


def _at(node: Node, source: str, message: str) -> RuleError:
    return RuleError(message, node.span.line, node.span.column, text_of(node, source))


def text_of(node: Node, source: str) -> str:
    return source[node.span.start : node.span.end]


def _span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(1, 1, 0, 0)
    return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> Span:
    return Span(token.line or 1, token.column or 1, token.start_pos or 0, token.end_pos or 0)


class _Build(Transformer_NonRecursive[Token, Any]):
    """Lark's parse tree → nodes. Callbacks get the tree (for its position) and the children
    already built."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        span = _span(meta)
        if data in _BINARY:
            return Binary(_BINARY[data], children[0], children[1], span=span)
        if data in ("and_", "or_"):
            op = "&&" if data == "and_" else "||"
            operands: list[Node] = []
            for child in children:
                chain = isinstance(child, Logical) and child.op == op
                operands.extend(child.operands if chain else (child,))
            return Logical(op, tuple(operands), span=span)
        return getattr(self, f"_{data}")(children, span)

    def _conditional(self, children: list[Any], span: Span) -> Node:
        return Conditional(children[0], children[1], children[2], span=span)

    def _not_(self, children: list[Any], span: Span) -> Node:
        return Unary("!", children[0], span=span)

    def _neg(self, children: list[Any], span: Span) -> Node:
        operand = children[0]
        if isinstance(operand, Literal) and isinstance(operand.value, float):
            return Literal(-operand.value, span=span)
        return Unary("-", operand, span=span)

    def _field(self, children: list[Any], span: Span) -> Node:
        return Field(str(children[0]), span=span)

    def _call(self, children: list[Any], span: Span) -> Node:
        name, args = children
        return Call(str(name), tuple(_items(args)), False, span=span)

    def _method(self, children: list[Any], span: Span) -> Node:
        receiver, name, args = children
        return Call(str(name), (receiver, *_items(args)), True, span=span)

    def _list_literal(self, children: list[Any], span: Span) -> Node:
        return ListLiteral(tuple(_items(children[0])), span=span)

    def _args(self, children: list[Any], span: Span) -> Any:
        return Tree("args", children)

    def _int_(self, children: list[Any], span: Span) -> Node:
        text = str(children[0])
        if len(text) > 20 or (int(text, 0) if text[:2].lower() == "0x" else int(text)) > (
            MAX_EXACT_INTEGER
        ):
            raise RuleError(
                f"an integer literal may not exceed {MAX_EXACT_INTEGER:,} (exact as a double)",
                span.line,
                span.column,
                text,
            )
        return Literal(float(int(text, 0) if text[:2].lower() == "0x" else int(text)), span=span)

    def _float_(self, children: list[Any], span: Span) -> Node:
        value = float(str(children[0]))
        if math.isinf(value):
            raise RuleError(
                "the number is too large for a double", span.line, span.column, str(children[0])
            )
        return Literal(value, span=span)

    def _string(self, children: list[Any], span: Span) -> Node:
        return Literal(_decode(children[0]), span=span)

    def _true(self, children: list[Any], span: Span) -> Node:
        return Literal(True, span=span)

    def _false(self, children: list[Any], span: Span) -> Node:
        return Literal(False, span=span)

    def _null(self, children: list[Any], span: Span) -> Node:
        return Literal(None, span=span)


def _items(args: Any) -> list[Node]:
    return [] if args is None else list(args.children)


def _decode(token: Token) -> str:
    """A string literal's value: CEL's escapes `\\\\ \\' \\" \\n \\r \\t \\uXXXX`; raw
    (`r'...'`) strings keep backslashes. NUL and lone surrogates are refused."""
    text = str(token)
    raw = text[0] in "rR"
    body = text[2:-1] if raw else text[1:-1]
    if not raw:

        def escape(match: re.Match[str]) -> str:
            code = match.group(1)
            if code in _ESCAPES:
                return _ESCAPES[code]
            if code.startswith("u") and len(code) == 5:
                return chr(int(code[1:], 16))
            raise RuleError(f"unknown escape \\{code}", *_where(token), text)

        body = _ESCAPE.sub(escape, body)
    if "\x00" in body or any(0xD800 <= ord(c) <= 0xDFFF for c in body):
        raise RuleError("a string may not hold NUL or a lone surrogate", *_where(token), text)
    return body


def _where(token: Token) -> tuple[int, int]:
    return token.line or 1, token.column or 1
