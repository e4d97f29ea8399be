"""The parsed form of an attribute value: literal text and var()/expr() calls, and the
error every mistake in a value raises (with its offsets inside the value text)."""
from __future__ import annotations

from dataclasses import dataclass

MAX_VALUE_LENGTH = 10_000  # characters in one attribute value
MAX_TOKENS = 500  # tokens in one expr()
MAX_MAGNITUDE = 2**63  # largest absolute value an expression may produce

Number = int | float


class ValueError_(Exception):
    """A mistake in an attribute value, at `start`..`end` inside the value text."""

    def __init__(self, message: str, start: int = 0, end: int | None = None, code: str = "value"):
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end if end is not None else start + 1
        self.code = code


class Unbound(ValueError_):
    def __init__(self, name: str, start: int, end: int):
        super().__init__(f"var({name}) has no binding", start, end, "unbound-var")
        self.name = name


# -- the tree -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Num:
    value: Number
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Name:
    """A bound name: `var(n)` or a bare `n` inside `expr()`."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    start: int
    end: int


Expr = Num | Name | BinOp


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the attribute text: literal text, or a var()/expr() to substitute."""

    text: str | None  # literal text
    expr: Expr | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Value:
    """A parsed attribute value: segments whose substitution gives the final text."""

    source: str
    segments: tuple[Segment, ...]

    @property
    def is_literal(self) -> bool:
        return all(s.expr is None for s in self.segments)

    def names(self) -> list[Name]:
        out: list[Name] = []
        for s in self.segments:
            if s.expr is not None:
                _collect_names(s.expr, out)
        return out


def _collect_names(e: Expr, out: list[Name]) -> None:
    if isinstance(e, Name):
        out.append(e)
    elif isinstance(e, BinOp):
        _collect_names(e.left, out)
        _collect_names(e.right, out)
