"""The ``when`` filter: a small, safe expression language over a purchase and a member.

A ``when`` expression is Python expression syntax restricted to what a filter needs: the names
``purchase`` and ``member``, attribute and constant-key access (``member.attributes["city"]``),
comparisons (including ``in``), ``and``/``or``/``not``, arithmetic, and literal strings, numbers,
booleans, ``None`` and lists. Calls, lambdas, comprehensions, dunder attributes and every other
construct are refused when the configuration is validated, so evaluation never runs code.
"""

from __future__ import annotations

import ast

ROOT_NAMES = frozenset({"purchase", "member"})

_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Subscript,
    ast.Constant,
    ast.List,
    ast.Tuple,
)


def parse_expression(source: str) -> ast.Expression:
    """Parse and vet ``source``; raises ``ValueError`` saying what is not allowed."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Name) and node.id not in ROOT_NAMES:
            raise ValueError(f"unknown name {node.id!r}: use purchase or member")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ValueError(f"attribute {node.attr!r} is not allowed")
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            raise ValueError("only constant keys may be used in [...]")
    return tree


def check_expression(source: str) -> str | None:
    """What is wrong with ``source``, or ``None`` when it is a valid ``when`` expression."""
    try:
        parse_expression(source)
    except ValueError as exc:
        return str(exc)
    return None
