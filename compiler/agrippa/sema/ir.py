"""The flat graph IR: what expansion produces and every later phase consumes.

Every node, tensor and parameter keeps the markup element that made it and the chain of
sourced blocks and rep/stretch copies it was made through, so diagnostics, hover and
navigation point back into the user's files. Nothing downstream re-reads XML.
"""
from __future__ import annotations

import os
import weakref
from dataclasses import dataclass, field
from typing import Any

from agrippa.base.diagnostics import Location, RelatedInfo
from agrippa.project.config import DEFAULT_OPSET
from agrippa.sema.inits import DEFAULT_INIT
from agrippa.syntax.tree import Element, SourceFile

_SET = object.__setattr__
_REFERENCES = frozenset({"input", "import", "export"})
Dim = Any  # int, a sympy expression, or None when unknown
Shape = "tuple[Dim, ...] | None"


@dataclass(frozen=True, slots=True)
class Frame:
    """One step of the way to a copy: a sourced-block tag, or a rep/stretch copy."""

    kind: str  # "source", "rep" or "stretch"
    element: Element
    file: str
    index: int = 0  # copy index (0-based) for rep/stretch


def copies_label(chain: tuple[Frame, ...]) -> str | None:
    """What the copies an element is made in are copies of: the outermost rep/stretch block
    of `chain` ("block 'layers'"), else its sourced-block instance ("'enc' (enc.agr)");
    the same for every copy, so a diagnostic repeated by copies says it once."""
    for f in chain:
        if f.kind in ("rep", "stretch"):
            title = f.element.get("title")
            if title:
                return f"{f.kind} block '{title}'"
            line = f.element.tag_range.start.line + 1
            return f"the {f.kind} block at {os.path.basename(f.file)}:{line}"
    for f in reversed(chain):
        if f.kind == "source":
            return f"'{f.element.get('name')}' ({f.element.get('src')})"
    return None


def instance_name(chain: tuple[Frame, ...]) -> str | None:
    """The sourced-block instance `chain` is inside, by its prefix (`enc$attn`), or None."""
    names = [f.element.get("name") or "?" for f in chain if f.kind == "source"]
    return "$".join(names) if names else None


def source_related(chain: tuple[Frame, ...]) -> tuple[RelatedInfo, ...]:
    """The sourced-block tags `chain` went through, outermost first, each as related
    information at the tag: "in up_attn, sourced at perceiver.agr:175"."""
    out, names = [], []
    for f in chain:
        if f.kind == "source":
            names.append(f.element.get("name") or "?")
            line = f.element.tag_range.start.line + 1
            name = "$".join(names)
            out.append(RelatedInfo(Location(f.file, f.element.tag_range),
                                   f"in {name}, sourced at {os.path.basename(f.file)}:{line}", name))
    return tuple(out)


@dataclass(frozen=True, slots=True, init=False)
class Origin:
    """Where an IR object comes from: an element of a file, reached through `chain`."""

    file: str
    element: Element
    chain: tuple[Frame, ...] = ()

    def __init__(self, file: str, element: Element, chain: tuple[Frame, ...] = ()):
        # made for every node and tensor: the frozen fields are set through `_SET` bound once
        # (a frozen dataclass's own __init__ looks object.__setattr__ up per field, ~1.5x slower)
        _SET(self, "file", file)
        _SET(self, "element", element)
        _SET(self, "chain", chain)

    @property
    def copy_indices(self) -> tuple[int, ...]:
        return tuple(f.index for f in self.chain if f.kind != "source")

    @property
    def is_first_copy(self) -> bool:
        return all(i == 0 for i in self.copy_indices)


@dataclass(eq=False, slots=True)
class Tensor:
    """A value of the graph. It names the nodes that read it and refers to its producer
    weakly: the graph owns nodes and tensors, and without cycles between them a replaced
    analysis is freed by reference counting, with no pause for the cyclic collector."""

    name: str  # the ONNX name
    logical: str  # the prefixed markup name (`enc$x`)
    origin: Origin  # the <output>, root <import>, <params> or stretch block that defines it
    kind: str = "value"  # "input", "value", "param", "constant", "concat"
    dtype: str = "float32"
    shape: tuple | None = None  # filled by shape inference
    declared: tuple | None = None  # shape written in the markup (root import, params dim)
    producer_ref: weakref.ref[Node] | None = None
    users: list[str] = field(default_factory=list)  # names of the nodes reading it (in no particular order)

    @property
    def producer(self) -> Node | None:
        return self.producer_ref() if self.producer_ref is not None else None


@dataclass(eq=False, slots=True)
class Use:
    """One input of a node: the tensor it reads and the element that names it."""

    tensor: Tensor
    element: Element  # <input> or <params>


@dataclass(eq=False)  # no slots: tensors refer to their producer weakly
class Node:
    name: str  # the ONNX node name (`Linear$3`)
    op: str
    origin: Origin  # the <node> element; for a stretch concat, the block
    inputs: list[Use] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)  # name -> ops.ParsedAttr
    domain: str = ""
    known: bool = True  # False when an attribute could not be evaluated (unbound names)
    repeat: Any = 1  # a stretch concat whose copy count is symbolic: each input stands for this many

    def attr(self, name: str, default: Any = None) -> Any:
        a = self.attributes.get(name)
        return a.value if a is not None else default


@dataclass(eq=False, slots=True)
class Param:
    """A trainable (or frozen) parameter: an ONNX initializer."""

    name: str  # final ONNX name (`W$3`, `enc$scale$constant$1`, `E` when shared)
    logical: str  # prefixed markup name
    origin: Origin  # its first <params> element
    dims: tuple  # evaluated dim (ints, or sympy expressions without bindings)
    dtype: str = "float32"
    init: str = DEFAULT_INIT
    init_args: tuple = ()
    frozen: bool = False
    shared: bool = False
    tensor: Tensor | None = None
    declarations: list[Origin] = field(default_factory=list)  # every <params> mapping to it


@dataclass(eq=False, slots=True)
class Constant:
    """A constant initializer made from an XML attribute (e.g. ReduceSum's axes)."""

    name: str
    value: Any  # numpy array
    origin: Origin


@dataclass(eq=False, slots=True)
class Instance:
    """One expansion of a sourced file: the tag that sourced it, reached through `chain`
    (which ends with the tag's own frame), and the tensors its root imports and exports
    stood for there (None: not defined)."""

    tag: Element  # the <block src=... name=...> tag
    file: str  # the file holding the tag
    path: str  # the sourced file
    chain: tuple[Frame, ...]
    imports: list[tuple[Element, Tensor | None]] = field(default_factory=list)
    exports: list[tuple[Element, Tensor | None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Its prefix without the last `$`: `up_attn`, `enc$attn` when nested."""
        return instance_name(self.chain) or "?"


@dataclass(eq=False)
class Graph:
    """A whole expanded model."""

    index: str  # the index file's path
    files: dict[str, SourceFile] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    tensors: dict[str, Tensor] = field(default_factory=dict)  # by ONNX name
    params: dict[str, Param] = field(default_factory=dict)  # by ONNX name, in creation order
    constants: dict[str, Constant] = field(default_factory=dict)
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[tuple[Tensor, Element]] = field(default_factory=list)  # with the root <export>
    bindings: dict[str, object] = field(default_factory=dict)
    opset: int = DEFAULT_OPSET
    dynamic: tuple[str, ...] = ()  # dims chosen at run time (ONNX dim_param), symbolic even when compiling
    complete: bool = True  # False when rep/stretch counts were unknown (no bindings)
    untyped: set[str] = field(default_factory=set)  # tensors whose dtype type inference could not know
    stored: frozenset[str] | None = frozenset()  # params the weights file holds a value for (None: it
    # exists but its names could not be read); sema/weights_check.py sets it
    stored_values: dict[str, Any] = field(default_factory=dict)  # small frozen ones' stored arrays
    # markup element -> what it stands for, across copies (for hover and navigation)
    element_tensors: dict[Element, list[Tensor]] = field(default_factory=dict)
    element_nodes: dict[Element, list[Node]] = field(default_factory=dict)
    element_params: dict[Element, list[Param]] = field(default_factory=dict)
    # block element -> number of copies made (rep/stretch), or a symbol when unknown
    copies: dict[Element, Any] = field(default_factory=dict)
    # sourced block tag -> the file it sources
    sourced: dict[Element, str] = field(default_factory=dict)
    # sourced block tag -> its instances (several when the tag's own file is sourced or copied several times)
    instances: dict[Element, list[Instance]] = field(default_factory=dict)
    # the index file's top-level elements as expansion made them (sema/expand/units.py), so the
    # next analysis reuses those an edit left alone; None when this expansion cannot be split
    units: list[Any] | None = None
    expanded: list[Element] | None = None  # the units this expansion made anew (None: all of them)
    consumed: bool = False  # a later analysis took its objects over: it is never reused again
    adopted: dict[int, tuple] | None = None  # id -> (name, shape, dtype) of each tensor taken over
    shape_state: Any = None  # what shape inference leaves for the next analysis (shapes/engine.py)
    check_state: Any = None  # what the checker leaves for it (checker.py)
    expansion_state: Any = None  # the expansion's names and counters at its end (expand/walk.py)
    unit_special: list[int] | None = None  # units that source files or read the whole scope
    unit_shared: bool = True  # some element is in several units' maps (a sourced file's)
    _definitions: dict[Element, Element] | None = field(default=None, repr=False)

    @property
    def definitions(self) -> dict[Element, Element]:
        """A reference (input src, import/export from) -> the element defining the tensor it
        resolved to first: derived from `element_tensors`, so a tensor's definition is read
        where it is now (an incremental analysis may have moved it)."""
        d = self._definitions
        if d is None:
            d = self._definitions = {el: ts[0].origin.element for el, ts in self.element_tensors.items()
                                     if el.tag in _REFERENCES and ts and ts[0].origin is not None
                                     and ts[0].origin.element is not el}
        return d

    def instances_of(self, path: str) -> list[Instance]:
        """The instances of sourced file `path`, in expansion order."""
        return [i for insts in self.instances.values() for i in insts if i.path == path]

    def add_tensor(self, t: Tensor, element: Element | None = None) -> Tensor:
        self.tensors[t.name] = t
        if element is not None:
            self.element_tensors.setdefault(element, []).append(t)
        return t

    @property
    def parameter_count(self) -> int | None:
        total = 0
        for p in self.params.values():
            n = 1
            for d in p.dims:
                if not isinstance(d, int):
                    return None
                n *= d
            total += n
        return total
