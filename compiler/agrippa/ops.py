"""The ONNX op catalog, read from ``onnx.defs``: schemas, attribute typing, arity, hover docs.

Everything here is derived from the schemas ONNX ships; there is no hand-written op list.
Only the default ONNX domain is covered.

Attribute text conventions (what ``parse_attribute`` accepts):

* ``int``: a decimal integer (``"-1"``). A number written as a float is accepted only when it
  is integral (``"2.0"``, ``"1e3"``), since ``expr()`` results may come out that way;
  ``"1.5"`` is rejected.
* ``float``: a decimal number (``"0.1"``, ``"1e-5"``, ``"3"``), or ``inf``/``-inf``/``nan``.
* ``string``: the text as is.
* ``ints``/``floats``/``strings``: a list ``"[0, 1, 3, 2]"``; the brackets may be left out
  (``"0, 1"``), and a single scalar (``"3"``) means a one-element list. Strings in a list may
  be quoted (``'a'``, ``"a"``) or bare words.
* ``tensor``/``graph``/... kinds cannot be written in markup.

Some op inputs may also be written as XML attributes (ReduceSum ``axes``, Clip ``min``, Reshape
``shape``, ...; see ``attribute_input_specs``); their text is read as ints or floats and
becomes a constant tensor (``ParsedAttr.to_array``).
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnx.defs
from onnx import helper, numpy_helper

DEFAULT_OPSET = 13
MARKUP_ATTRIBUTES = frozenset({"op", "title", "expose"})
"""``<node>`` attributes that belong to Agrippa, not to the ONNX op."""

_UNBOUNDED = 2**31 - 1
_INT_TYPES = frozenset(
    f"tensor({t})"
    for t in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
)
_FLOAT_TYPES = frozenset(f"tensor({t})" for t in ("float", "double", "float16", "bfloat16"))
_UNSUPPORTED_KINDS = frozenset(
    {
        "tensor",
        "tensors",
        "graph",
        "graphs",
        "sparse_tensor",
        "sparse_tensors",
        "type_proto",
        "type_protos",
    }
)


# --------------------------------------------------------------------------- data classes


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


@dataclass(frozen=True, slots=True)
class AttributeInput:
    """An op input that markup may write as an XML attribute, compiled to a constant initializer.

    ``elem_type`` is an ``onnx.TensorProto`` data type (INT64 or FLOAT). ``follows_data`` means the
    input shares the first input's type parameter (e.g. Clip min/max), so the compiler should
    use the data's element type when it knows it. ``rank`` is 0 or 1 when the schema says
    so, ``None`` when the tensor takes the rank the text is written in (scalar or list).
    """

    name: str
    index: int
    elem_type: int
    follows_data: bool
    rank: int | None


@dataclass(frozen=True, slots=True)
class ParsedAttr:
    """A typed attribute value. ``input_index`` is set for an attribute that is an op input."""

    name: str
    kind: str
    value: object
    scalar: bool = False
    input_index: int | None = None
    elem_type: int | None = None
    rank: int | None = None

    def to_proto(self) -> onnx.AttributeProto:
        """The ONNX attribute (only for real attributes, not for ``input_index`` ones)."""
        if self.input_index is not None:
            raise ValueError(f"'{self.name}' is an op input; use to_array()")
        attr_type = getattr(onnx.AttributeProto, self.kind.upper())
        return helper.make_attribute(self.name, self.value, attr_type=attr_type)

    def to_array(self, dtype: np.dtype | type | None = None) -> np.ndarray:
        """The constant tensor for an attribute that is an op input.

        ``dtype`` overrides the schema-derived element type (e.g. the data's type for Clip).
        """
        if dtype is None:
            dtype = helper.tensor_dtype_to_np_dtype(self.elem_type or onnx.TensorProto.INT64)
        arr = np.asarray(self.value, dtype=dtype)
        rank = self.rank if self.rank is not None else (0 if self.scalar else 1)
        if rank == 0 and arr.size == 1:
            return arr.reshape(())
        return arr.reshape(-1)


@dataclass(frozen=True, slots=True)
class AttrError:
    """Why an attribute's text is wrong; ``offset``/``length`` locate the problem in the text."""

    message: str
    offset: int | None = None
    length: int | None = None


# --------------------------------------------------------------------------- catalog


def _kind(attr_type: object) -> str:
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
            kind=_kind(a.type),
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
def _history() -> dict[str, tuple[onnx.defs.OpSchema, ...]]:
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
    for name, versions in _history().items():
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


def suggest_op(name: str, opset: int = DEFAULT_OPSET, n: int = 3) -> list[str]:
    """Did-you-mean op names for ``name``: a case-insensitive exact match first, then close ones."""
    return _suggest(name, list(_catalog(opset)), n)


def _suggest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    lowered: dict[str, str] = {}
    for c in candidates:
        lowered.setdefault(c.lower(), c)
    result = [lowered[name.lower()]] if name.lower() in lowered else []
    key = name.lower()
    matches = difflib.get_close_matches(key, list(lowered), n=max(3 * n, 10), cutoff=0.6)
    # equally close: prefer the one that starts like what was typed ("Ad" → Add, not Pad)
    matches.sort(key=lambda m: (-round(difflib.SequenceMatcher(None, key, m).ratio(), 3),
                                -len(os.path.commonprefix([key, m]))))
    for match in matches[:n]:
        if lowered[match] not in result:
            result.append(lowered[match])
    return result[:n]


# --------------------------------------------------------------------------- attribute inputs


def _earlier_attribute_kinds(schema: OpSchema) -> dict[str, str]:
    """Attributes of earlier versions of the op → their (latest) kind."""
    return {
        name: _kind(a.type)
        for v in _history().get(schema.name, ())
        if v.since_version < schema.since_version
        for name, a in v.attributes.items()
    }


def _rank_hint(description: str) -> int | None:
    text = " ".join(description.lower().split())
    if re.search(r"\bscalar\b|\b0-d\b", text):
        return 0
    if re.search(r"\b1-?d\b|\blist of\b|\barray\b", text):
        return 1
    return None


def attribute_input_specs(schema: OpSchema) -> dict[str, AttributeInput]:
    """Op inputs that markup may write as XML attributes (constants), by name.

    An input qualifies when it is not the first input, not variadic, not named like one of the
    op's attributes, is a tensor of int64 or float, and either
    (a) an earlier version of the op had an attribute of that name (it was turned into an
    input, e.g. ReduceSum axes, Clip min/max, Reshape shape), or
    (b) its type is not tied to the first input's and is an integer type admitting int64
    (axes, shapes, sizes, repeats, K, indices), or exactly ``tensor(float)`` (Resize scales).
    """
    return dict(_attribute_input_specs(schema))


@functools.lru_cache(maxsize=4096)
def _attribute_input_specs(schema: OpSchema) -> dict[str, AttributeInput]:
    if not schema.inputs:
        return {}
    earlier = _earlier_attribute_kinds(schema)
    first_type = schema.inputs[0].type_str
    specs: dict[str, AttributeInput] = {}
    for index, inp in enumerate(schema.inputs[1:], start=1):
        if inp.variadic or inp.name in schema.attributes or inp.name in MARKUP_ATTRIBUTES:
            continue
        allowed = set(inp.allowed_types)
        tied = inp.type_str == first_type and inp.type_str in schema.type_constraints
        has_int64, has_float = "tensor(int64)" in allowed, "tensor(float)" in allowed
        if inp.name in earlier and (has_int64 or has_float):
            # Prefer float when the values follow float data (Clip) or only floats are allowed.
            use_float = has_float and (tied or not has_int64)
        elif not tied and has_int64 and allowed <= _INT_TYPES:
            use_float = False
        elif not tied and allowed == {"tensor(float)"}:
            use_float = True
        elif tied and inp.optional and has_float and _rank_hint(inp.description) == 0:
            use_float = True  # an optional scalar of the data's type (Pad's constant_value)
        else:
            continue
        elem = onnx.TensorProto.FLOAT if use_float else onnx.TensorProto.INT64
        rank = _rank_hint(inp.description)
        if rank is None and inp.name in earlier:
            rank = 1 if earlier[inp.name].endswith("s") else 0
        specs[inp.name] = AttributeInput(inp.name, index, elem, tied, rank)
    return specs


def attribute_inputs(schema: OpSchema) -> dict[str, int]:
    """XML attribute names that are op inputs (not ONNX attributes) → input index."""
    return {name: spec.index for name, spec in attribute_input_specs(schema).items()}


# --------------------------------------------------------------------------- attribute text

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)", re.I)
_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "string": "a string",
    "ints": "a list of integers",
    "floats": "a list of numbers",
    "strings": "a list of strings",
}


class _Fail(Exception):
    def __init__(self, offset: int, length: int, what: str = "") -> None:
        super().__init__(what)
        self.offset, self.length, self.what = offset, length, what


def _scalar(token: str, kind: str, offset: int) -> object:
    """Type one token (already stripped) as 'int', 'float' or 'string'."""
    if kind == "string":
        if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
            return token[1:-1]
        return token
    if kind == "int":
        value: int | None = None
        if _INT_RE.fullmatch(token):
            value = int(token)
        elif _FLOAT_RE.fullmatch(token):
            f = float(token)
            if math.isfinite(f) and f == int(f):
                value = int(f)
        if value is None:
            raise _Fail(offset, max(len(token), 1))
        if not -(2**63) <= value < 2**63:
            raise _Fail(offset, len(token), "out of the int64 range")
        return value
    if _FLOAT_RE.fullmatch(token):
        return float(token)
    raise _Fail(offset, max(len(token), 1))


def _split_list(text: str, words: bool) -> tuple[list[tuple[str, int]], bool]:
    """Split list text into (token, offset) pairs; also whether it was a bare scalar.

    Number tokens end at whitespace; bare ``words`` (strings) may contain spaces.
    """
    start, end = 0, len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    bracketed = end > start and text[start] == "["
    if bracketed:
        if text[end - 1] != "]":
            raise _Fail(end, 0, "missing ']'")
        start, end = start + 1, end - 1
    elif end > start and text[end - 1] == "]":
        raise _Fail(end - 1, 1, "unexpected ']'")
    if not text[start:end].strip():
        if bracketed:
            return [], False
        raise _Fail(start, 0, "empty value")
    tokens: list[tuple[str, int]] = []
    i = start
    while True:
        while i < end and text[i].isspace():
            i += 1
        j = i
        if i < end and text[i] in "'\"":
            close = text.find(text[i], i + 1, end)
            if close < 0:
                raise _Fail(i, end - i, "unterminated quote")
            j = close + 1
        else:
            while j < end and text[j] != "," and (words or not text[j].isspace()):
                j += 1
        token = text[i:j].rstrip()
        if not token:
            raise _Fail(i, 0, "missing value")
        if "[" in token:
            raise _Fail(i + token.index("["), 1, "nested lists are not allowed")
        if "]" in token:
            raise _Fail(i + token.index("]"), 1, "unexpected ']'")
        tokens.append((token, i))
        i = j
        while i < end and text[i].isspace():
            i += 1
        if i >= end:
            break
        if text[i] != ",":
            raise _Fail(i, 1, "expected ','")
        i += 1
    return tokens, not bracketed and len(tokens) == 1


def _parse_text(text: str, kind: str) -> tuple[object, bool]:
    """Type ``text`` by ``kind``; returns (value, written as a scalar)."""
    if kind == "string":
        return text, True
    if kind in ("int", "float"):
        stripped = text.strip()
        offset = len(text) - len(text.lstrip())
        if not stripped:
            raise _Fail(0, 0)
        return _scalar(stripped, kind, offset), True
    tokens, scalar = _split_list(text, words=kind == "strings")
    elem = kind[:-1]
    return [_scalar(tok, elem, off) for tok, off in tokens], scalar


def parse_attribute(schema: OpSchema, attr_name: str, text: str) -> ParsedAttr | AttrError:
    """Type an XML attribute's text by the op's schema (see the module doc for the rules)."""
    spec = attribute_input_specs(schema).get(attr_name)
    attr = schema.attributes.get(attr_name)
    if attr is None and spec is None:
        names = list(schema.attributes) + list(attribute_input_specs(schema))
        hint = _suggest(attr_name, names, 1)
        if hint:
            return AttrError(
                f"{schema.name}: unknown attribute '{attr_name}'; did you mean '{hint[0]}'?"
            )
        if not names:
            return AttrError(
                f"{schema.name}: unknown attribute '{attr_name}'; {schema.name} takes no attributes"
            )
        listed = ", ".join(f"'{n}'" for n in sorted(names))
        return AttrError(f"{schema.name}: unknown attribute '{attr_name}' (known: {listed})")
    if attr is not None:
        kind = attr.kind
        if kind in _UNSUPPORTED_KINDS:
            return AttrError(
                f"{schema.name}: attribute '{attr_name}' is of kind {kind}, "
                "which is not supported in markup"
            )
    else:
        kind = "floats" if spec.elem_type == onnx.TensorProto.FLOAT else "ints"
    try:
        value, scalar = _parse_text(text, kind)
    except _Fail as fail:
        words = _KIND_WORDS.get(kind, kind)
        bad = text[fail.offset : fail.offset + fail.length]
        if fail.what:
            detail = f'got "{text}" ({fail.what})'
        elif kind in ("ints", "floats"):
            detail = f'but "{bad}" is not {_KIND_WORDS[kind[:-1]]}'
        else:
            detail = f'got "{text}"'
        message = f"{schema.name}: attribute '{attr_name}' must be {words}, {detail}"
        return AttrError(message, fail.offset, fail.length)
    if spec is not None:
        if spec.rank == 0 and isinstance(value, list) and len(value) != 1:
            words = "a single number" if kind == "floats" else "a single integer"
            return AttrError(
                f"{schema.name}: attribute '{attr_name}' must be {words}, got \"{text}\""
            )
        return ParsedAttr(attr_name, kind, value, scalar, spec.index, spec.elem_type, spec.rank)
    if kind in ("int", "float", "string"):
        scalar = True
    return ParsedAttr(attr_name, kind, value, scalar)


def parse_node_attributes(
    schema: OpSchema, attrs: Mapping[str, str]
) -> tuple[dict[str, ParsedAttr], dict[str, AttrError]]:
    """Parse all of a ``<node>``'s attributes (markup ones skipped), checking required ones.

    A missing required attribute is reported under its own name with no offset.
    """
    parsed: dict[str, ParsedAttr] = {}
    errors: dict[str, AttrError] = {}
    for name, text in attrs.items():
        if name in MARKUP_ATTRIBUTES:
            continue
        result = parse_attribute(schema, name, text)
        if isinstance(result, AttrError):
            errors[name] = result
        else:
            parsed[name] = result
    for name, attr in schema.attributes.items():
        if attr.required and name not in attrs:
            errors[name] = AttrError(f"{schema.name}: missing required attribute '{name}'")
    return parsed, errors


# --------------------------------------------------------------------------- arity


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


# --------------------------------------------------------------------------- hover docs

_DOC_LIMIT = 1500


def _signature(schema: OpSchema) -> str:
    def fmt(p: OpInput | OpOutput) -> str:
        name = f"{p.name}..." if p.variadic else p.name
        return f"[{name}]" if p.optional else name

    ins = ", ".join(fmt(p) for p in schema.inputs)
    outs = ", ".join(fmt(p) for p in schema.outputs)
    return (
        f"{schema.name}({ins}) -> {outs}"
        if len(schema.outputs) <= 1
        else f"{schema.name}({ins}) -> ({outs})"
    )


def _first_sentence(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    cut = re.search(r"(?<=[.!?])\s", text)
    if cut and cut.start() <= limit:
        return text[: cut.start()]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _trim_doc(doc: str, limit: int = _DOC_LIMIT) -> str:
    if len(doc) <= limit:
        return doc
    cut = doc.rfind("\n\n", 0, limit)
    if cut < limit // 3:
        cut = doc.rfind(" ", 0, limit)
    return doc[: max(cut, 1)].rstrip() + "\n\n…"


def _format_default(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.ndarray):
        return "tensor"
    return str(value)


def op_markdown(schema: OpSchema) -> str:
    """Markdown for hover: signature, inputs, outputs, attributes, then the ONNX doc (trimmed)."""
    lines = [
        f"**{schema.name}** — ONNX op, version {schema.since_version} (in force at opset {schema.opset})",
        "",
        f"```\n{_signature(schema)}\n```",
    ]
    specs = attribute_input_specs(schema)

    def param_lines(title: str, params: tuple[OpInput, ...] | tuple[OpOutput, ...]) -> None:
        if not params:
            return
        lines.extend(["", f"**{title}**", ""])
        for p in params:
            flags = [f for f, on in (("optional", p.optional), ("variadic", p.variadic)) if on]
            if p.name in specs:
                flags.append("may be given as an attribute")
            flag = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"- `{p.name}`: `{p.type_str}`{flag} — {_first_sentence(p.description)}")

    param_lines("Inputs", schema.inputs)
    param_lines("Outputs", schema.outputs)
    if schema.attributes:
        lines.extend(["", "**Attributes**", ""])
        for a in schema.attributes.values():
            extra = (
                "required"
                if a.required
                else (
                    f"default {_format_default(a.default)}" if a.default is not None else "optional"
                )
            )
            lines.append(f"- `{a.name}`: {a.kind}, {extra} — {_first_sentence(a.description)}")
    if schema.type_constraints:
        lines.extend(["", "**Types**", ""])
        for param, allowed in schema.type_constraints.items():
            short = ", ".join(t.removeprefix("tensor(").removesuffix(")") for t in allowed)
            lines.append(f"- `{param}`: {short}")
    if schema.doc:
        lines.extend(["", "---", "", _trim_doc(schema.doc)])
    return "\n".join(lines)
