"""Building one IR node from a `<node>` element: op, typed attributes, inputs, outputs.

The builder works through three collaborators it is given, and nothing else of the walk:
the `Reporter` for diagnostics, the `AttrReader` for attribute values and the
`Definitions` for names, parameters, constants and the graph.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from agrippa.base.diagnostics import Fix, Range, TextEdit
from agrippa.base.suggest import suggest
from agrippa.sema import compat
from agrippa.sema import ops as opcat
from agrippa.sema.expand.definitions import Definitions
from agrippa.sema.expand.reader import AttrReader
from agrippa.sema.expand.scope import Reporter, Scope
from agrippa.sema.ir import Node, Use
from agrippa.syntax.tree import Attr, Element

NODE_META_ATTRS = frozenset({"op", "title", "expose", "x", "y", "width", "height"})


class NodeBuilder:
    """Builds the IR node of each `<node>` element."""

    def __init__(self, reporter: Reporter, reader: AttrReader, defs: Definitions, opset: int,
                 opset_fix: Callable[[int], Fix] | None = None):
        self.reporter = reporter
        self.reader = reader
        self.defs = defs
        self.opset = opset
        self.opset_fix = opset_fix  # the quick fix that sets [model] opset in agrippa.toml
        self._schemas: dict[str, tuple[opcat.OpSchema | None, _OpFacts | None]] = {}  # op name -> `op_schema`

    def op_schema(self, op: str) -> tuple[opcat.OpSchema | None, _OpFacts | None]:
        """The op's schema at this opset and its per-op facts (looked up once per op name)."""
        found = self._schemas.get(op)
        if found is None:
            schema = opcat.get_op(op, self.opset)
            found = self._schemas[op] = (schema, _facts(schema) if schema is not None else None)
        return found

    def build(self, scope: Scope, el: Element) -> Node | None:
        # the hottest function of expansion (once per node copy): attribute lookups are hoisted
        defs = self.defs
        graph = defs.graph
        attrs = el.attrs
        op_attr = attrs.get("op")
        op = op_attr.value if op_attr is not None else ""
        schema, facts = (self._schemas.get(op) or self.op_schema(op)) if op else (None, None)
        if op_attr is not None and op and schema is None:
            self.unknown_op(scope, op_attr)
        title_attr = attrs.get("title")
        title = scope.prefix + ((title_attr.value if title_attr is not None else None) or "GenericNode")
        node = Node(defs.node_name(title), op or "?", scope.origin(el))
        made = graph.element_nodes.get(el)
        if made is None:
            graph.element_nodes[el] = [node]
        else:
            made.append(node)
        expose_attr = attrs.get("expose")
        expose = expose_attr is not None and expose_attr.value == "yes"
        n_in = 0
        outputs = []
        inputs = node.inputs
        for child in el.children:
            tag = child.tag
            if tag == "input":
                n_in += 1
                self.input(scope, child, node, expose)
            elif tag == "params":
                n_in += 1
                p = defs.param(scope, child)
                if p is not None and p.tensor is not None:
                    inputs.append(Use(p.tensor, child))
                    defs.use(p.tensor, node.name)
            elif tag == "output":
                outputs.append(child)
        # a node with only layout/meta attributes and an op without required ones has nothing to read
        if facts is not None and (facts.required or not NODE_META_ATTRS.issuperset(attrs)):
            n_in += self.attributes(scope, el, node, schema, facts)  # plus constants made from attributes
        define_output = defs.define_output
        node_outputs = node.outputs
        for child in outputs:
            t = define_output(scope, child, node)
            if t is not None:
                node_outputs.append(t)
        if schema is not None:
            n_out = len(outputs)
            if not (schema.min_input <= n_in <= schema.max_input and schema.min_output <= n_out <= schema.max_output):
                msg = opcat.check_node_arity(schema, n_in, n_out)
                if msg:
                    self.reporter.error(scope, op_attr.value_range, "arity", msg)
        defs.add_node(node)
        return node

    def unknown_op(self, scope: Scope, op_attr: Attr) -> None:
        op, rng = op_attr.value, op_attr.value_range
        later, removed = opcat.op_availability(op, self.opset)
        if later is not None and removed is None:
            fixes = (self.opset_fix(later),) if self.opset_fix is not None else ()
            self.reporter.error(scope, rng, "op-needs-opset", compat.opset_message(op, later, self.opset),
                                fixes=fixes, data={"opset": later})
            return
        close = opcat.suggest_op(op, self.opset)
        msg = f"unknown op '{op}'"
        if removed is not None:
            msg = f"'{op}' was removed from ONNX in opset {removed}; this project uses {self.opset}"
        msg += f"; did you mean '{close[0]}'?" if close else ""
        fixes = tuple(Fix(f"Change to '{c}'", (TextEdit(scope.file.path, rng, c),), i == 0)
                      for i, c in enumerate(close))
        self.reporter.error(scope, rng, "unknown-op", msg, fixes=fixes, data={"candidates": close})

    def ignored(self, scope: Scope, el: Element, attr: Attr, schema: opcat.OpSchema, known: list[str]) -> None:
        """An attribute the op does not take: ignored, as the original does (a warning)."""
        path = scope.file.path
        if self.reporter.saturated(path):  # a flood: counted, without looking for suggestions
            return self.reporter.drop(path)
        if attr.name == compat.NODE_NAME_SLIP:
            has_title = "title" in el.attrs
            self.reporter.warning(scope, attr.name_range, "name-for-title", compat.name_for_title_message(has_title),
                                  fixes=compat.name_for_title_fixes(path, attr.name_range, has_title))
            return
        close = suggest(attr.name, [k for k in known if k not in el.attrs], 1)  # never a second `axis`
        fixes = tuple(Fix(f"Rename to '{c}'", (TextEdit(path, attr.name_range, c),), True) for c in close)
        self.reporter.warning(scope, attr.name_range, "unknown-attribute",
                              compat.unknown_attribute_message(schema.name, attr.name, close, known), fixes=fixes)

    def input(self, scope: Scope, el: Element, node: Node, expose: bool) -> None:
        attr = el.attrs.get("src")
        if attr is None or not attr.value:
            return
        if expose:
            graph = self.defs.graph
            name = scope.prefix + attr.value
            t = graph.tensors.get(name)
            if t is None:
                self.reporter.error(scope, attr.value_range, "undefined-tensor",
                         f"'{attr.value}' names no tensor (expose=\"yes\" reads names literally, e.g. 'x$3')")
                return
            graph.element_tensors.setdefault(el, []).append(t)
        else:
            t = self.defs.reference(scope, el, "src", strict=True, what="the node reads")
            if t is None:
                return
        node.inputs.append(Use(t, el))
        self.defs.use(t, node.name)

    def attributes(self, scope: Scope, el: Element, node: Node, schema: opcat.OpSchema, facts: _OpFacts) -> int:
        """Read the node's op attributes; returns how many inputs they added (constants, and
        the empty inputs before them)."""
        error = self.reporter.error
        accepted = facts.accepted
        pending: list[tuple[int, opcat.ParsedAttr, Element]] = []
        for name, attr in el.attrs.items():
            if name in NODE_META_ATTRS:
                continue
            if name not in accepted:
                self.ignored(scope, el, attr, schema, list(facts.known))
                continue
            text = self.reader.text_attr(scope, el, name)
            if text is None:
                node.known = False
                continue
            parsed = opcat.parse_attribute(schema, name, text)
            if isinstance(parsed, opcat.AttrError):
                rng = attr.value_range
                if parsed.offset is not None and text == attr.value:
                    s = attr.offset_of(parsed.offset)
                    rng = scope.file.range(s, attr.offset_of(parsed.offset + max(parsed.length or 1, 1)))
                error(scope, rng, "bad-attribute", parsed.message)
                node.known = False
                continue
            if parsed.input_index is not None:
                pending.append((parsed.input_index, parsed, el))
            else:
                node.attributes[name] = parsed
        for name in facts.required:
            if name not in node.attributes and name not in el.attrs:
                rng = el.attrs["op"].value_range if "op" in el.attrs else el.tag_range
                error(scope, rng, "missing-attribute", f"{schema.name} needs the attribute '{name}'",
                         fixes=(Fix(f"Add {name}=\"\"", (TextEdit(scope.file.path, _after_op(scope, el),
                                                                   f' {name}=""'),), True),),
                         data={"attribute": name})
        if not pending:
            return 0
        before = len(node.inputs)
        for index, parsed, _el in sorted(pending, key=lambda x: x[0]):
            first = node.inputs[0].tensor.name if node.inputs else node.name
            arr = parsed.to_array()
            t = self.defs.constant(scope, el, f"{first}${parsed.name}$constant", arr)
            while len(node.inputs) < index:
                node.inputs.append(Use(_EMPTY, el))
            node.inputs.insert(index, Use(t, el))
            self.defs.use(t, node.name)
        return len(node.inputs) - before


@dataclass(frozen=True, slots=True)
class _OpFacts:
    """What `attributes` asks of an op for every node: computed once per schema."""

    accepted: frozenset[str]  # its ONNX attributes and the XML attributes that are inputs
    known: tuple[str, ...]  # the same, as the did-you-mean candidates (sorted attributes, then inputs)
    required: tuple[str, ...]  # required attributes, in schema order


@functools.lru_cache(maxsize=4096)
def _facts(schema: opcat.OpSchema) -> _OpFacts:
    attr_inputs = opcat.attribute_inputs(schema)
    return _OpFacts(frozenset(schema.attributes) | frozenset(attr_inputs),
                    (*sorted(schema.attributes), *sorted(attr_inputs)),
                    tuple(name for name, a in schema.attributes.items() if a.required))


def _after_op(scope: Scope, el: Element) -> Range:
    op = el.attrs.get("op")
    pos = (op.value_start + len(op.raw) + 1) if op is not None else el.start + 1 + len(el.tag)
    return scope.file.range(pos, pos)


class _Empty:
    """An omitted optional input (ONNX's empty name)."""

    name = ""
    shape = None
    dtype = "float32"
    users: list = []
    origin = None
    kind = "empty"


_EMPTY = _Empty()
