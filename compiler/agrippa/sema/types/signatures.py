"""An op's type signature, read from its ONNX schema once per (op, opset, domain).

Every formal input and output names a type variable (`T`, `Tind`) or a literal type
(`tensor(int64)`), and the schema's constraints list the element types each variable
may take. That is all type inference needs: inputs bound to one variable must agree,
and an output takes its variable's type, bound by an input or fixed by the constraint.
"""
from __future__ import annotations

from dataclasses import dataclass

from onnx import defs

from agrippa.sema.dtypes import ORDER, type_str_name


@dataclass(frozen=True, slots=True)
class Formal:
    """One formal input or output of an op."""

    name: str  # the schema's name (`indices`)
    var: str  # the type variable, or the literal type string itself
    allowed: frozenset[str] | None  # element types a tensor may have; None: not a tensor (seq, optional)
    variadic: bool = False
    homogeneous: bool = True  # a variadic's values share one type

    @property
    def fixed(self) -> str | None:
        """The one type the formal can have, if its constraint allows only one."""
        if self.allowed is not None and len(self.allowed) == 1:
            return next(iter(self.allowed))
        return None

    def allowed_text(self) -> str:
        """`int32 or int64`, `one of float16, bfloat16, float32, float64` (markup types first)."""
        names = [n for n in ORDER if n in (self.allowed or ())]
        if not names:
            names = sorted(self.allowed or ())
        if len(names) == 1:
            return names[0]
        if len(names) <= 3:
            return ", ".join(names[:-1]) + " or " + names[-1]
        return "one of " + ", ".join(names)


@dataclass(frozen=True, slots=True)
class Signature:
    op: str
    inputs: tuple[Formal, ...]
    outputs: tuple[Formal, ...]

    def formal_in(self, i: int) -> Formal | None:
        """The formal parameter actual input `i` binds to (a variadic takes the rest)."""
        ins = self.inputs
        if i < len(ins):
            return ins[i]
        return ins[-1] if ins and ins[-1].variadic else None

    def formal_out(self, k: int) -> Formal | None:
        outs = self.outputs
        if k < len(outs):
            return outs[k]
        return outs[-1] if outs and outs[-1].variadic else None


_SIGS: dict[tuple[str, int, str], Signature | None] = {}

NARROWED: dict[str, tuple[dict[str, frozenset[str]], str]] = {
    "MeanVarianceNormalization": ({"T": frozenset({"float32"})}, "ONNX defines it by a function whose epsilon "
                                  "and exponent are float32 constants, so onnx.checker and onnxruntime refuse any "
                                  "other type; Cast X to float32 first"),
}
"""Ops whose type constraint allows more than ONNX itself can check or run: op -> (type variable
-> the types that work, why). Found by the differential fuzzer (seed 16 #5902: float64 MVN)."""


def signature(op: str, opset: int, domain: str = "") -> Signature | None:
    """The type signature of `op` as in force at `opset` (None for an unknown op)."""
    key = (op, opset, domain)
    sig = _SIGS.get(key, _SIGS)
    if sig is _SIGS:
        sig = _SIGS[key] = _read(op, opset, domain)
    return sig  # type: ignore[return-value]


def _read(op: str, opset: int, domain: str) -> Signature | None:
    try:
        schema = defs.get_schema(op, opset, domain)
    except defs.SchemaError:
        return None
    constraints = {c.type_param_str: tuple(c.allowed_type_strs) for c in schema.type_constraints}
    narrowed = NARROWED.get(op, ({}, ""))[0] if domain in ("", "ai.onnx") else {}
    variadic = defs.OpSchema.FormalParameterOption.Variadic

    def formals(params: list) -> tuple[Formal, ...]:
        out = []
        for p in params:
            strs = constraints.get(p.type_str, (p.type_str,))
            names = {type_str_name(s) for s in strs}
            names.discard(None)
            if p.type_str in narrowed:
                names &= narrowed[p.type_str]
            out.append(Formal(p.name, p.type_str, frozenset(names) if names else None,  # type: ignore[arg-type]
                              p.option == variadic, bool(p.is_homogeneous)))
        return tuple(out)

    return Signature(op, formals(schema.inputs), formals(schema.outputs))
