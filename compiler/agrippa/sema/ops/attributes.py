"""Typing an XML attribute's text by the op's schema (see the package doc for the rules)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper

from agrippa.base.suggest import suggest
from agrippa.sema.ops.catalog import OpSchema
from agrippa.sema.ops.inputs import MARKUP_ATTRIBUTES, attribute_input_specs

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


# -- attribute text -----------------------------------------------------------------------

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
        hint = suggest(attr_name, names, 1)
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
    if kind == "int" and attr_name in FLAGS and value not in (0, 1):
        return AttrError(f"{schema.name}: attribute '{attr_name}' is a flag, 0 or 1; got {value} "
                         "(runtimes read other values differently)")
    if kind == "int" and attr_name in ELEMENT_TYPE_ATTRS and (
            value == onnx.TensorProto.UNDEFINED or value not in onnx.TensorProto.DataType.values()):
        return AttrError(f"{schema.name}: attribute '{attr_name}' must be an ONNX element type code "
                         f"(1 float, 7 int64, 11 double, ...); got {value}")
    where = POSITIVE.get(attr_name, ())
    if (schema.name in where or "*" in where) and kind in ("int", "float", "ints", "floats") and any(
            v <= 0 for v in (value if isinstance(value, list) else [value])):
        return AttrError(f"{schema.name}: attribute '{attr_name}' must be positive; got {value}")
    if (schema.name, attr_name) in NONNEGATIVE and isinstance(value, int) and value < 0:
        return AttrError(f"{schema.name}: attribute '{attr_name}' cannot be negative; got {value}")
    if (kind == "ints" and schema.name in NONNEGATIVE_LISTS.get(attr_name, ())
            and any(v < 0 for v in value)):
        return AttrError(f"{schema.name}: attribute '{attr_name}' cannot hold negative values; got {value} "
                         "(onnxruntime refuses the model)")
    if (schema.name, attr_name) in NONZERO and value == 0:
        return AttrError(f"{schema.name}: attribute '{attr_name}' cannot be 0 (the op divides by it)")
    if (schema.name, attr_name) in ONE_OR_TWO and value not in (1, 2):
        return AttrError(f"{schema.name}: attribute '{attr_name}' must be 1 or 2; got {value}")
    allowed = choices_for(schema, attr_name)
    if kind == "string" and allowed is not None and value not in allowed:
        listed = ", ".join(sorted(allowed))
        return AttrError(f"{schema.name}: attribute '{attr_name}' must be one of {listed}; got \"{value}\""
                         + _renamed_note(schema, attr_name, value))
    if kind in ("int", "float", "string"):
        scalar = True
    return ParsedAttr(attr_name, kind, value, scalar)


POSITIVE: dict[str, frozenset[str]] = {
    "size": frozenset({"LRN"}), "alpha": frozenset({"LRN"}), "beta": frozenset({"LRN"}),
    "sample_size": frozenset({"Multinomial"}), "scale": frozenset({"RandomNormal", "RandomNormalLike"}),
    "spatial_scale": frozenset({"MaxRoiPool"}), "pooled_shape": frozenset({"MaxRoiPool"}),
    "output_shape": frozenset({"ConvTranspose"}), "clip": frozenset({"RNN", "GRU", "LSTM"}),
    **dict.fromkeys(("hidden_size", "blocksize", "kernel_shape", "strides", "dilations", "group"), frozenset({"*"})),
}
"""Numeric attributes whose values must be > 0: attribute -> ops ("*": any op)."""
NONZERO = frozenset({("Celu", "alpha")})
NONNEGATIVE = frozenset({("GatherND", "batch_dims"), ("RoiAlign", "sampling_ratio"), ("RoiAlign", "output_height"),
                         ("RoiAlign", "output_width")})
NONNEGATIVE_LISTS: dict[str, frozenset[str]] = {
    "pads": frozenset({"Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "MaxPool", "AveragePool",
                       "LpPool"}),  # Pad's own pads crop when negative: allowed
}
"""ints attributes whose values must all be >= 0: attribute -> ops."""
ONE_OR_TWO = frozenset({("LpNormalization", "p")})  # the spec: "only 1 or 2 are supported"
_DIRECTIONS = frozenset({"forward", "reverse", "bidirectional"})
_SCATTER = frozenset({"none", "add", "mul", "max", "min"})
_LOSS = frozenset({"none", "sum", "mean"})
CHOICES: dict[str, dict[str, frozenset[str]]] = {
    "auto_pad": {"*": frozenset({"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})},
    "mode": {"Pad": frozenset({"constant", "reflect", "edge", "wrap"}), "RoiAlign": frozenset({"avg", "max"}),
             "DepthToSpace": frozenset({"DCR", "CRD"}), "TfIdfVectorizer": frozenset({"TF", "IDF", "TFIDF"}),
             "Resize": frozenset({"nearest", "linear", "cubic"})},  # GridSample's: VERSIONED_CHOICES
    "direction": {"BitShift": frozenset({"LEFT", "RIGHT"}), "RNN": _DIRECTIONS, "GRU": _DIRECTIONS,
                  "LSTM": _DIRECTIONS},
    "reduction": {"ScatterND": _SCATTER, "ScatterElements": _SCATTER, "NegativeLogLikelihoodLoss": _LOSS,
                  "SoftmaxCrossEntropyLoss": _LOSS},
    "padding_mode": {"GridSample": frozenset({"zeros", "border", "reflection"})},
    "nearest_mode": {"Resize": frozenset({"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})},
    "coordinate_transformation_mode": {
        "Resize": frozenset({"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                             "asymmetric", "tf_crop_and_resize"}),
        "RoiAlign": frozenset({"half_pixel", "output_half_pixel"})},
    "approximate": {"Gelu": frozenset({"none", "tanh"})},
    "keep_aspect_ratio_policy": {"Resize": frozenset({"stretch", "not_larger", "not_smaller"})},
}
"""String attributes with a closed set of values: attribute -> op ("*": any op) -> the values
(onnxruntime refuses others when it loads the model; ONNX's checker does not look)."""
VERSIONED_CHOICES: dict[tuple[str, str], tuple[tuple[int, frozenset[str]], ...]] = {
    ("GridSample", "mode"): ((20, frozenset({"linear", "nearest", "cubic"})),
                             (16, frozenset({"bilinear", "nearest", "bicubic"}))),
}
"""Closed sets that an op's version renamed: (op, attribute) -> (since version, values), newest
first. GridSample-20 renamed bilinear/bicubic to linear/cubic; onnxruntime refuses the other
version's names when it loads the model."""


def choices_for(schema: OpSchema, attr_name: str) -> frozenset[str] | None:
    """The values a string attribute may take in this version of the op (None: any)."""
    for since, values in VERSIONED_CHOICES.get((schema.name, attr_name), ()):
        if schema.since_version >= since:
            return values
    choices = CHOICES.get(attr_name, {})
    return choices.get(schema.name, choices.get("*"))


def _renamed_note(schema: OpSchema, attr_name: str, value: object) -> str:
    """Where a value belongs to another version of the op: which opsets take it."""
    versions = VERSIONED_CHOICES.get((schema.name, attr_name), ())
    for k, (since, values) in enumerate(versions):
        if value in values:
            until = f" to {versions[k - 1][0] - 1}" if k > 0 else " on"
            return f" (\"{value}\" is {schema.name}'s name from opset {since}{until}; this is opset {schema.opset})"
    return ""


FLAGS = frozenset({
    "keepdims", "noop_with_empty_axes", "exclusive", "reverse", "transA", "transB", "ceil_mode",
    "count_include_pad", "fmod", "select_last_index", "upper", "periodic", "onesided", "inverse",
    "align_corners", "linear_before_reset", "is_causal", "interleaved", "sorted", "largest",
    "center_point_box", "detect_negative", "detect_positive", "training_mode", "saturate",
    "allowzero", "input_forget", "storage_order", "new_axis", "layout"})
"""Int attributes that are yes/no switches in every op that has them."""
ELEMENT_TYPE_ATTRS = frozenset({"to", "dtype", "output_datatype", "output_dtype"})
"""Int attributes that name an element type (TensorProto.DataType)."""


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
