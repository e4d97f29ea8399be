"""Parsing attribute values: literal text and `var()`/`expr()` calls into a `Value`.

`expr()` is flat infix: numbers and names joined by binary operators, left-associative,
`^` binding tightest; no parentheses, no unary minus. Short texts are parsed once per
process (models repeat the same few thousands of times).
"""
from __future__ import annotations

import functools
import math
import re

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
    Value,
    ValueError_,
)

_CALL_RE = re.compile(r"\b(var|expr)\s*\(")
_TOKEN_RE = re.compile(r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
                       r"|([A-Za-z_][A-Za-z0-9_]*)|(//|\^|\*\*|[-+*/%])|(\S))")
_PRECEDENCE = {"^": 3, "*": 2, "/": 2, "//": 2, "%": 2, "+": 1, "-": 1}


def parse_value(text: str) -> Value:
    """Split `text` into literal text and var()/expr() calls; raises ValueError_.

    Values are immutable, and models repeat the same few texts (`[var(d), var(d)]`)
    thousands of times: short ones are parsed once per process."""
    if len(text) <= _CACHED_LENGTH:
        return _parse_cached(text)
    return _parse_value(text)


_CACHED_LENGTH = 200


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Value:
    return _parse_value(text)  # errors propagate and are not cached


def _parse_value(text: str) -> Value:
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError_(f"value is too long ({len(text)} characters; at most {MAX_VALUE_LENGTH})",
                          0, 1, "value-too-large")
    segs: list[Segment] = []
    pos = 0
    for m in _CALL_RE.finditer(text):
        if m.start() < pos:
            continue
        if m.start() > pos:
            segs.append(Segment(text[pos:m.start()], None, pos, m.start()))
        kind = m.group(1)
        close = _matching_paren(text, m.end() - 1)
        if close < 0:
            raise ValueError_(f"{kind}( is never closed", m.start(), m.end(), "expr-syntax")
        inner_start = m.end()
        inner = text[inner_start:close]
        if kind == "var":
            name = inner.strip()
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError_(f"var() takes one name, got '{inner}'", inner_start,
                                  max(close, inner_start + 1), "expr-syntax")
            off = inner_start + inner.index(name)
            expr: Expr = Name(name, off, off + len(name))
        else:
            expr = _parse_expr(_substitute_inner_vars(inner), inner_start)
        segs.append(Segment(None, expr, m.start(), close + 1))
        pos = close + 1
    if pos < len(text) or not segs:
        segs.append(Segment(text[pos:], None, pos, len(text)))
    return Value(text, tuple(segs))


def _matching_paren(text: str, open_idx: int) -> int:
    depth = 0
    for i in range(open_idx, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _substitute_inner_vars(inner: str) -> str:
    """`expr(var(n) * 2)`: a var() inside expr() reads as the bare name, keeping columns."""
    return re.sub(r"var\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)",
                  lambda m: m.group(1).rjust(len(m.group(0))), inner)


def _parse_expr(src: str, base: int) -> Expr:
    """Flat infix: operands and binary operators, all left-associative, `^` binds tightest."""
    tokens: list[tuple[str, str, int, int]] = []  # kind, text, start, end
    pos = 0
    while pos < len(src):
        m = _TOKEN_RE.match(src, pos)
        if m is None or m.end() == pos:
            break
        num, name, op, bad = m.groups()
        s = base + m.start(m.lastindex)
        e = base + m.end(m.lastindex)
        if bad is not None:
            if bad in "()":
                raise ValueError_("parentheses are not allowed inside expr()", s, e, "expr-syntax")
            raise ValueError_(f"unexpected '{bad}' in expr()", s, e, "expr-syntax")
        if op == "**":
            raise ValueError_("write '^' for a power in expr(), not '**'", s, e, "expr-syntax")
        tokens.append(("num" if num else "name" if name else "op", num or name or op, s, e))
        pos = m.end()
        if len(tokens) > MAX_TOKENS:
            raise ValueError_(f"expr() is too long (more than {MAX_TOKENS} tokens)", s, e, "value-too-large")
    if not tokens:
        raise ValueError_("expr() is empty", base, base + 1, "expr-syntax")
    # operand (op operand)*
    operands: list[Expr] = []
    ops: list[tuple[str, int, int]] = []
    expect_operand = True
    for kind, tok, s, e in tokens:
        if expect_operand:
            if kind == "op":
                msg = ("unary minus is not allowed in expr()" if tok == "-" and not operands
                       else f"expected a number or a name before '{tok}'")
                raise ValueError_(msg, s, e, "expr-syntax")
            operands.append(Num(_number(tok, s, e), s, e) if kind == "num" else Name(tok, s, e))
        else:
            if kind != "op":
                raise ValueError_(f"expected an operator before '{tok}'", s, e, "expr-syntax")
            ops.append((tok, s, e))
        expect_operand = not expect_operand
    if expect_operand:
        tok, s, e = ops[-1]
        raise ValueError_(f"'{tok}' needs a right operand", s, e, "expr-syntax")
    return _build(operands, ops)


def _number(tok: str, s: int, e: int) -> Number:
    if re.fullmatch(r"\d+", tok):
        if len(tok) > 19:
            raise ValueError_("number is too large", s, e, "value-too-large")
        return int(tok)
    v = float(tok)
    if not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
        raise ValueError_("number is too large", s, e, "value-too-large")
    return v


def _build(operands: list[Expr], ops: list[tuple[str, int, int]]) -> Expr:
    """Precedence climbing over a flat, left-associative sequence."""
    out: list[Expr] = [operands[0]]
    stack: list[str] = []

    def reduce() -> None:
        op = stack.pop()
        r = out.pop()
        left = out.pop()
        out.append(BinOp(op, left, r, left.start, r.end))

    for (op, _s, _e), operand in zip(ops, operands[1:]):
        while stack and _PRECEDENCE[stack[-1]] >= _PRECEDENCE[op]:
            reduce()
        stack.append(op)
        out.append(operand)
    while stack:
        reduce()
    return out[0]
