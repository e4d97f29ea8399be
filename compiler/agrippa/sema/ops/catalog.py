"""The op catalog: every default-domain ONNX op as in force at an opset, read from
``onnx.defs`` (there is no hand-written op list), with did-you-mean and arity checks."""
from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field

import onnx
import onnx.defs
from onnx import helper, numpy_helper

from agrippa.base.suggest import suggest
from agrippa.project.config import DEFAULT_OPSET

_UNBOUNDED = 2**31 - 1


@dataclass(frozen=True, slots=True)
class OpArg:
    """A formal input or output of an op."""

    name: str
    optional: bool
    variadic: bool
    description: str
    type_str: str
    allowed_types: tuple[str, ...] = ()


OpInput = OpOutput = OpArg


@dataclass(frozen=True, slots=True)
class OpAttribute:
    """An ONNX attribute; ``kind`` is 'int', 'float', 'string', 'ints', ..., 'tensor', 'graph'."""

    name: str
    kind: str
    required: bool
    default: object | None
    description: str


@dataclass(frozen=True, eq=False)
class OpSchema:
    """One op as in force at ``opset`` (its definition dates from ``since_version``)."""

    name: str
    domain: str
    since_version: int
    doc: str
    inputs: tuple[OpInput, ...]
    outputs: tuple[OpOutput, ...]
    attributes: dict[str, OpAttribute]
    min_input: int
    max_input: int
    min_output: int
    max_output: int
    opset: int = DEFAULT_OPSET
    type_constraints: dict[str, tuple[str, ...]] = field(default_factory=dict)


# -- the catalog -------------------------------------------------------------------------


def attr_kind(attr_type: object) -> str:
    return str(getattr(attr_type, "name", attr_type)).rsplit(".", 1)[-1].lower()


def _decode_default(proto: onnx.AttributeProto) -> object | None:
    if not proto.name and proto.type == onnx.AttributeProto.UNDEFINED:
        return None
    if proto.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        return None
    if proto.type == onnx.AttributeProto.TENSOR:
        return numpy_helper.to_array(proto.t)
    value = helper.get_attribute_value(proto)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
    return value


def _convert(s: onnx.defs.OpSchema, opset: int) -> OpSchema:
    constraints = {c.type_param_str: tuple(c.allowed_type_strs) for c in s.type_constraints}
    option = onnx.defs.OpSchema.FormalParameterOption

    def params(formals: list, cls: type) -> tuple:
        return tuple(
            cls(
                name=p.name,
                optional=p.option == option.Optional,
                variadic=p.option == option.Variadic,
                description=p.description.strip(),
                type_str=p.type_str,
                allowed_types=constraints.get(p.type_str, (p.type_str,)),
            )
            for p in formals
        )

    attributes = {
        name: OpAttribute(
            name=name,
            kind=attr_kind(a.type),
            required=a.required,
            default=_decode_default(a.default_value),
            description=a.description.strip(),
        )
        for name, a in sorted(s.attributes.items())
    }
    return OpSchema(
        name=s.name,
        domain=s.domain,
        since_version=s.since_version,
        doc=textwrap.dedent(s.doc or "").strip(),
        inputs=params(s.inputs, OpInput),
        outputs=params(s.outputs, OpOutput),
        attributes=attributes,
        min_input=s.min_input,
        max_input=s.max_input,
        min_output=s.min_output,
        max_output=s.max_output,
        opset=opset,
        type_constraints=constraints,
    )


@functools.lru_cache(maxsize=1)
def history() -> dict[str, tuple[onnx.defs.OpSchema, ...]]:
    """Every version of every default-domain op, oldest first."""
    by_name: dict[str, list[onnx.defs.OpSchema]] = {}
    for s in onnx.defs.get_all_schemas_with_history():
        if s.domain in ("", "ai.onnx"):
            by_name.setdefault(s.name, []).append(s)
    return {n: tuple(sorted(v, key=lambda s: s.since_version)) for n, v in by_name.items()}


@functools.lru_cache(maxsize=32)
def _catalog(opset: int) -> dict[str, OpSchema]:
    """All ops in force at ``opset``, by name (deprecated ones left out)."""
    catalog: dict[str, OpSchema] = {}
    for name, versions in history().items():
        in_force = [v for v in versions if v.since_version <= opset]
        if not in_force or in_force[-1].deprecated:
            continue
        catalog[name] = _convert(in_force[-1], opset)
    return dict(sorted(catalog.items()))


def get_op(name: str, opset: int = DEFAULT_OPSET) -> OpSchema | None:
    """The op ``name`` as in force at ``opset``, or None if it does not exist there."""
    return _catalog(opset).get(name)


def all_ops(opset: int = DEFAULT_OPSET) -> list[OpSchema]:
    """Every op available at ``opset``, sorted by name."""
    return list(_catalog(opset).values())


def op_availability(name: str, opset: int = DEFAULT_OPSET) -> tuple[int | None, int | None]:
    """For an op missing at ``opset``: (the first later opset that has it, the opset that
    removed it), each None when it does not apply (an op ONNX never had gives (None, None))."""
    versions = history().get(name, ())
    later = next((v.since_version for v in versions if v.since_version > opset and not v.deprecated), None)
    removed = next((v.since_version for v in versions if v.deprecated and v.since_version <= opset), None)
    return later, removed


def suggest_op(name: str, opset: int = DEFAULT_OPSET, n: int = 3) -> list[str]:
    """Did-you-mean op names for ``name``: a case-insensitive exact match first, then close ones."""
    return suggest(name, list(_catalog(opset)), n)


# -- arity ----------------------------------------------------------------------------------


def _count_text(lo: int, hi: int, noun: str) -> str:
    def plural(k: int) -> str:
        return noun if k == 1 else noun + "s"

    if lo == hi:
        return f"{lo} {plural(lo)}"
    if hi >= _UNBOUNDED:
        return f"at least {lo} {plural(lo)}"
    return f"{lo} to {hi} {plural(hi)}"


def check_node_arity(schema: OpSchema, n_inputs: int, n_outputs: int) -> str | None:
    """A message when the number of inputs or outputs is outside the schema's bounds."""
    problems = []
    for n, lo, hi, noun in (
        (n_inputs, schema.min_input, schema.max_input, "input"),
        (n_outputs, schema.min_output, schema.max_output, "output"),
    ):
        if not lo <= n <= hi:
            problems.append(f"{schema.name} takes {_count_text(lo, hi, noun)}, got {n}")
    return "; ".join(problems) or None
