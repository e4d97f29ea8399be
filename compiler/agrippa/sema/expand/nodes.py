"""Building one IR node from a `<node>` element: op, typed attributes, inputs, outputs.

The builder works through three collaborators it is given, and nothing else of the walk:
the `Reporter` for diagnostics, the `AttrReader` for attribute values and the
`Definitions` for names, parameters, constants and the graph.
"""
from __future__ import annotations

from collections.abc import Callable

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

    def build(self, scope: Scope, el: Element) -> Node | None:
        defs, graph = self.defs, self.defs.graph
        op_attr = el.attrs.get("op")
        op = op_attr.value if op_attr is not None else ""
        schema = opcat.get_op(op, self.opset) if op else None
        if op_attr is not None and op and schema is None:
            self.unknown_op(scope, op_attr)
        title = scope.prefix + (el.get("title") or "GenericNode")
        node = Node(defs.node_name(title), op or "?", scope.origin(el))
        node.known = True
        graph.element_nodes.setdefault(el, []).append(node)
        expose = el.get("expose") == "yes"
        n_in = 0
        outputs = []
        for child in el.children:
            tag = child.tag
            if tag == "input":
                n_in += 1
                self.input(scope, child, node, expose)
            elif tag == "params":
                n_in += 1
                p = defs.param(scope, child)
                if p is not None and p.tensor is not None:
                    node.inputs.append(Use(p.tensor, child))
                    p.tensor.users.append(node.name)
            elif tag == "output":
                outputs.append(child)
        if schema is not None:
            self.attributes(scope, el, node, schema)
        for child in outputs:
            t = defs.define_output(scope, child, node)
            if t is not None:
                node.outputs.append(t)
        if schema is not None:
            n_in += sum(1 for u in node.inputs if u.element is el)  # constants from attributes
            msg = opcat.check_node_arity(schema, n_in, len(outputs))
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
        graph = self.defs.graph
        attr = el.attrs.get("src")
        if attr is None or not attr.value:
            return
        if expose:
            name = scope.prefix + attr.value
            t = graph.tensors.get(name)
            if t is None:
                self.reporter.error(scope, attr.value_range, "undefined-tensor",
                         f"'{attr.value}' names no tensor (expose=\"yes\" reads names literally, e.g. 'x$3')")
                return
            graph.element_tensors.setdefault(el, []).append(t)
            graph.definitions.setdefault(el, t.origin.element)
        else:
            t = self.defs.reference(scope, el, "src", strict=True, what="the node reads")
            if t is None:
                return
        node.inputs.append(Use(t, el))
        t.users.append(node.name)

    def attributes(self, scope: Scope, el: Element, node: Node, schema: opcat.OpSchema) -> None:
        error = self.reporter.error
        attr_inputs = opcat.attribute_inputs(schema)
        pending: list[tuple[int, opcat.ParsedAttr, Element]] = []
        for name, attr in el.attrs.items():
            if name in NODE_META_ATTRS:
                continue
            if name not in schema.attributes and name not in attr_inputs:
                self.ignored(scope, el, attr, schema, sorted(schema.attributes) + sorted(attr_inputs))
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
        for name, a in schema.attributes.items():
            if a.required and name not in node.attributes and name not in el.attrs:
                rng = el.attrs["op"].value_range if "op" in el.attrs else el.tag_range
                error(scope, rng, "missing-attribute", f"{schema.name} needs the attribute '{name}'",
                         fixes=(Fix(f"Add {name}=\"\"", (TextEdit(scope.file.path, _after_op(scope, el),
                                                                   f' {name}=""'),), True),),
                         data={"attribute": name})
        for index, parsed, _el in sorted(pending, key=lambda x: x[0]):
            first = node.inputs[0].tensor.name if node.inputs else node.name
            arr = parsed.to_array()
            t = self.defs.constant(scope, el, f"{first}${parsed.name}$constant", arr)
            while len(node.inputs) < index:
                node.inputs.append(Use(_EMPTY, el))
            node.inputs.insert(index, Use(t, el))
            t.users.append(node.name)


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
