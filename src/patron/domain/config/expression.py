"""The ``when`` filter: a small, safe expression language over a purchase and a member.

Expressions are parsed and evaluated by ``simpleeval`` (a maintained library that walks the
syntax tree itself; nothing reaches Python's ``eval``), and further restricted here to what a
filter needs: the names ``purchase`` and ``member``, attribute and constant-key access
(``member.attributes["city"]``), comparisons (including ``in``), ``and``/``or``/``not``,
arithmetic, and literal strings, numbers, booleans, ``None`` and lists. Calls, lambdas,
comprehensions, underscore attributes and every other construct are refused when the
configuration is validated. ``compile_expression`` parses an expression once (cached by its
text, so once per configuration version at most) and evaluates it many times.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

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


def parse_expression(source: str) -> ast.AST:
    """Parse and vet ``source``; raises ``ValueError`` saying what is not allowed."""
    try:
        ast.parse(source, mode="eval")  # one expression, nothing else
        tree: ast.AST = EvalWithCompoundTypes().parse(source)
    except SyntaxError as exc:
        raise ValueError(f"not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr):
            continue
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


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    source: str
    tree: ast.AST

    def holds(self, purchase: Mapping[str, Any], member: Mapping[str, Any]) -> bool:
        """Evaluate against plain data; a missing attribute or a type clash means "no"."""
        evaluator = EvalWithCompoundTypes(
            names={"purchase": purchase, "member": member}, functions={}
        )
        try:
            return bool(evaluator.eval(self.source, previously_parsed=self.tree))
        except (InvalidExpression, KeyError, TypeError, ValueError, ArithmeticError):
            return False


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CompiledExpression:
    """Parse once; raises ``ValueError`` for an expression the configuration would refuse."""
    return CompiledExpression(source, parse_expression(source))
