"""The rule language's grammar: a subset of the Common Expression Language's
(github.com/google/cel-spec, doc/langdef.md), with CEL's operator precedence, for lark's
LALR(1) parser (linear time, no backtracking, no recursion in the parser itself).

Left out of CEL: maps, messages, field selection (`a.b`), indexing, macros (`all`,
`exists`, …), `uint` and bytes literals, triple-quoted strings; `has` takes a plain field."""

from __future__ import annotations

from functools import cache

from lark import Lark

GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr "?" or_expr ":" expr       -> conditional

?or_expr: and_expr
        | or_expr "||" and_expr           -> or_

?and_expr: relation
         | and_expr "&&" relation         -> and_

?relation: addition
         | relation "==" addition         -> eq
         | relation "!=" addition         -> ne
         | relation "<" addition          -> lt
         | relation "<=" addition         -> le
         | relation ">" addition          -> gt
         | relation ">=" addition         -> ge
         | relation "in" addition         -> in_

?addition: multiplication
         | addition "+" multiplication    -> add
         | addition "-" multiplication    -> sub

?multiplication: unary
               | multiplication "*" unary -> mul
               | multiplication "/" unary -> div
               | multiplication "%" unary -> mod

?unary: member
      | "!" unary                         -> not_
      | "-" unary                         -> neg

?member: primary
       | member "." IDENT "(" [args] ")"  -> method

?primary: IDENT                           -> field
        | IDENT "(" [args] ")"            -> call
        | "(" expr ")"
        | "[" [args] "]"                  -> list_literal
        | INT                             -> int_
        | FLOAT                           -> float_
        | STRING                          -> string
        | "true"                          -> true
        | "false"                         -> false
        | "null"                          -> null

args: expr ("," expr)* ","?

IDENT: /[A-Za-z_][A-Za-z0-9_]*/
FLOAT.2: /[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+([eE][+-]?[0-9]+)?/
INT: /0[xX][0-9a-fA-F]+|[0-9]+/
STRING: /[rR]?("([^"\\\n]|\\.)*"|'([^'\\\n]|\\.)*')/

%ignore /[ \t\r\n\f]+/
%ignore /\/\/[^\n]*/
"""


@cache
def parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)
