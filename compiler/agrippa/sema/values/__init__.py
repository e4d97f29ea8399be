"""Attribute values: `var()` and `expr()` (docs/language.md §3) without `eval`.

An attribute value such as `[var(ntokens), expr(dvalues * nheads)]` is parsed once into
a small tree. It evaluates either with bindings (to numbers) or symbolically (to sympy
expressions in the user's own names), so the same parse serves the compiler and the
editor. Every error carries the offset, inside the value text, where it happened.

`tree` holds the parsed form and `ValueError_`, `parse` the parser, `evaluate` numeric and
symbolic evaluation; every name is importable from here.
"""
from __future__ import annotations

from agrippa.sema.values.evaluate import (
    eval_expr,
    evaluate,
    read_json,
    substitute,
    symbol,
    to_sympy,
)
from agrippa.sema.values.parse import parse_value
from agrippa.sema.values.tree import (
    MAX_MAGNITUDE,
    MAX_TOKENS,
    MAX_VALUE_LENGTH,
    BinOp,
    Expr,
    Name,
    Num,
    Number,
    Segment,
    Unbound,
    Value,
    ValueError_,
)

__all__ = [
    "MAX_MAGNITUDE", "MAX_TOKENS", "MAX_VALUE_LENGTH", "BinOp", "Expr", "Name", "Num", "Number",
    "Segment", "Unbound", "Value", "ValueError_", "eval_expr", "evaluate", "parse_value", "read_json",
    "substitute", "symbol", "to_sympy",
]
