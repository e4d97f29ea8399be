"""The registry of diagnostic codes: one row a code, like lemminx's code tables.

Each code has its default severity, the part of the markup its range marks, the quick
fixes it offers and a one-line summary. `docs/diagnostics.md` is generated from this
table (`python -m agrippa.base.codes > docs/diagnostics.md`; a test keeps it in sync),
and the language server links each diagnostic to its anchor there (`codeDescription`).
Every diagnostic any phase makes must use a code from here: the test suite turns on
`strict()`, under which an unknown code raises at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agrippa.base import diagnostics
from agrippa.base.diagnostics import Severity

ERR, WARN, INFO, HINT = Severity.ERROR, Severity.WARNING, Severity.INFORMATION, Severity.HINT


@dataclass(frozen=True)
class Code:
    name: str
    severity: Severity  # the default; a phase may lower or raise it (strict compile, rep copies)
    marks: str  # what the diagnostic's range covers
    summary: str
    fixes: str = ""  # the quick fixes offered, if any
    phase: str = ""

    @property
    def anchor(self) -> str:
        return self.name


_ROWS: list[tuple] = [
    # phase "syntax": the recovering XML parser
    ("xml-syntax", ERR, "the malformed text", "the text is not well-formed XML", "", "syntax"),
    ("xml-empty", ERR, "the start of the file", "the file has no root element", "", "syntax"),
    ("xml-entity", ERR, "the entity reference", "an unknown entity; entities are never expanded", "", "syntax"),
    ("xml-doctype", ERR, "the DOCTYPE declaration", "a DTD; DTDs and external entities are never loaded", "", "syntax"),
    ("xml-duplicate-attribute", ERR, "the second attribute's name", "an attribute written twice on one element", "", "syntax"),
    ("xml-too-deep", ERR, "the element past the depth limit", "elements nest deeper than the parser allows", "", "syntax"),
    ("xml-bad-char", ERR, "the character or character reference", "a character XML does not allow (a lone surrogate, a control character); a lone surrogate is read as U+FFFD", "", "syntax"),
    ("bidi-control", WARN, "the character or character reference", "a bidirectional control character, which makes text display differently from how it is read (Trojan Source)", "", "syntax"),
    ("too-many-diagnostics", WARN, "the start of the file", "a file with more diagnostics than are listed (1,000 per file): identical ones are merged with a count, the rest counted here", "", "syntax"),
    ("file-unreadable", ERR, "the start of the file", "the file cannot be read (missing, too large, not UTF-8)", "", "project"),
    ("outside-project", ERR, "the src value (or its key in agrippa.toml: [model] index, [train] data, eval_data, loss)", "a file outside the project folder and its [project] roots (after symlinks); it is not read", "", "project"),
    ("not-a-regular-file", ERR, "the src value (or its key in agrippa.toml: [model] index, [train] data, eval_data, loss)", "a FIFO, device, socket or folder named as a file; it is never opened", "", "project"),
    ("file-too-large", ERR, "the src value (or its key in agrippa.toml: [model] index, [train] data, eval_data, loss)", "a file over the size cap ([project] max_file_mb, default 20); it is not read", "", "project"),
    # phase "project": agrippa.toml and the index file
    ("config", ERR, "the key in agrippa.toml", "a key of agrippa.toml has a wrong type or value", "", "project"),
    ("config-syntax", ERR, "the TOML syntax error", "agrippa.toml is not valid TOML", "", "project"),
    ("train-config", ERR, "the key in agrippa.toml's [train] table", "a [train] key is unknown or ill-typed", "", "project"),
    ("no-index", ERR, "the project folder", "the project has no .agr or .xml file", "", "project"),
    ("index-choice", INFO, "the start of the chosen index file", "several candidate index files: which one was chosen", "", "project"),
    # phase "schema": the XSD
    ("schema-invalid", ERR, "the offending element or attribute", "the file breaks the Agrippa schema", "", "schema"),
    ("schema-bad-root", ERR, "the root tag name", "the root element is not <model>", "", "schema"),
    ("schema-bad-value", ERR, "the attribute value", "an attribute value does not match its type", "replace with a close allowed value", "schema"),
    ("schema-missing-attribute", ERR, "the tag name", "a required attribute is missing", "insert the attribute", "schema"),
    ("schema-missing-element", ERR, "the tag name of the parent", "a required child element is missing", "", "schema"),
    ("schema-unexpected-element", ERR, "the child's tag name", "an element where the schema allows none of its kind", "", "schema"),
    ("schema-unexpected-text", ERR, "the text", "text inside an element that takes none", "", "schema"),
    ("schema-unknown-attribute", ERR, "the attribute name", "an attribute the schema does not know", "rename to the closest known attribute", "schema"),
    ("schema-unknown-element", ERR, "the tag name", "an element the schema does not know", "rename to the closest known element", "schema"),
    # phase "values": var() and expr()
    ("value-syntax", ERR, "the value, or the character where it goes wrong", "the attribute's value is not valid JSON after substitution", "", "values"),
    ("expr-syntax", ERR, "the offending part of the expression", "an expr() that does not parse", "", "values"),
    ("expr-value", ERR, "the operand or operation", "an expr() that cannot be evaluated (division by zero, non-number)", "", "values"),
    ("value-too-large", ERR, "the number or expression", "a value past the bounds on length, magnitude or power", "", "values"),
    ("symbolic-too-complex", INFO, "the expr()", "an expression too deep to follow symbolically: its dims stay unknown until bound", "", "values"),
    ("unbound-var", ERR, "the var()/expr() name", "a name with no binding (an error when compiling; symbolic in the editor)", "add a binding to agrippa.toml", "values"),
    ("bad-dim", ERR, "the dim value", "a dim that is not a list of whole numbers", "", "values"),
    ("bad-count", ERR, "the rep/stretch value", "a rep or stretch count that is not a whole number ≥ 1", "", "values"),
    ("dynamic-dim-in-attribute", ERR, "the dynamic name in the value", "a dynamic dim ([model] dynamic, --dynamic) used where the compiled model needs a number: an op attribute (a Reshape's literal shape), init_args, a rep/stretch count", "", "values"),
    ("dynamic-dim-in-params", ERR, "the dynamic name in the params dim", "a parameter's dim uses a dynamic dim: parameters (initializers) have fixed shapes", "", "values"),
    # phase "expand": blocks, nodes, names
    ("bad-root", ERR, "the root tag name", "the index root is not <model>, or a sourced root not <model>/<block>", "", "expand"),
    ("unknown-op", ERR, "the op value", "an op the ONNX catalog of the project's opset does not have", "replace with a close op name", "expand"),
    ("unknown-attribute", WARN, "the attribute name", "an attribute the node's op does not take; ignored, as the original does", "rename to the closest attribute", "expand"),
    ("name-for-title", WARN, "the name attribute's name", "`name` on a node, where `title` was meant; ignored, as the original does", "rename to title (when the node has no title)", "expand"),
    ("op-needs-opset", ERR, "the op value", "an op that ONNX adds in a later opset than the project's", "set [model] opset in agrippa.toml", "expand"),
    ("ignored-attribute", WARN, "the attribute name", "an attribute that has no effect here (the original ignores it)", "", "expand"),
    ("bad-attribute", ERR, "the attribute value", "an op attribute of the wrong type", "", "expand"),
    ("missing-attribute", ERR, "the op value", "a required op attribute is missing", "insert the attribute", "expand"),
    ("arity", ERR, "the op value", "the node has too few or too many inputs or outputs for its op", "", "expand"),
    ("undefined-tensor", ERR, "the src/from value", "a reference to a tensor no node defines", "rename to the closest defined tensor", "expand"),
    ("use-before-definition", ERR, "the src/from value", "a tensor used above the node that defines it", "", "expand"),
    ("duplicate-name", ERR, "the second import's from value", "a block imports the same name twice", "", "expand"),
    ("duplicate-output", ERR, "the second output's name value", "two outputs define the same tensor", "", "expand"),
    ("bad-name", ERR, "the offending character or name", "a defined name containing '$' or '.'", "", "expand"),
    ("rep-and-stretch", ERR, "the stretch attribute name", "rep and stretch on one block", "", "expand"),
    ("rep-without-io", ERR, "the rep/stretch attribute name", "a repeated block without import or export", "", "expand"),
    ("too-many-copies", ERR, "the rep/stretch value", "a rep or stretch count past the expansion budget", "", "expand"),
    ("too-many-nodes", ERR, "the rep/stretch value or node tag", "the expanded model exceeds the node budget", "", "expand"),
    ("missing-source", ERR, "the src value", "a sourced file that does not exist or cannot be read", "", "expand"),
    ("source-cycle", ERR, "the src value", "sourced files that source each other", "", "expand"),
    ("source-too-deep", ERR, "the src value", "sourced blocks nested past the depth limit", "", "expand"),
    ("too-many-sourced", ERR, "the src value", "sourced blocks (with the nodes) expand past the budget, e.g. a diamond of files sourcing each other twice", "", "expand"),
    ("sourced-with-children", ERR, "the block tag name", "a sourced block tag with children", "", "expand"),
    ("sourced-without-name", ERR, "the block tag name", "a sourced block without a name prefix", "", "expand"),
    ("shared-dims-differ", ERR, "the second dim value", "a shared parameter declared with different dims", "", "expand"),
    ("dims-differ-symbolically", WARN, "the second dim value (a shared parameter's, or a dim hint)", "dims written with different binding names that agree only for the bound values ([d, n] and [n, d] with d = n)", "", "expand"),
    ("renamed-value", WARN, "the output's name value", "a value renamed because a parameter, input or constant has its ONNX name (the original would write an invalid model)", "", "expand"),
    ("duplicate-onnx-name", ERR, "the second name or from value", "two parameters, inputs or constants with one ONNX name: the model would be invalid", "", "expand"),
    # phase "check": the checker over trees and IR
    ("no-exports", WARN, "the model tag name", "an index <model> without a root <export>: the graph would have no output, which onnxruntime refuses (an error when compiling)", "", "check"),
    ("root-io-without-dim", ERR, "the import/export tag name", "a model-root import or export without dim", "", "check"),
    ("dims-for-dim", WARN, "the dims attribute name", "`dims` written where `dim` was meant", "rename to dim", "check"),
    ("unknown-init", ERR, "the init value", "an init kind that does not exist", "replace with a close init kind", "check"),
    ("init-args", ERR, "the init_args value (or init)", "init_args of the wrong length or type for its init", "", "check"),
    ("unused-output", HINT, "the output's name value", "an output nothing reads", "", "check"),
    ("untrainable-op", WARN, "the op value", "an op (at the project's opset) that training cannot convert to PyTorch; docs/ops.md lists every op", "", "check"),
    ("non-finite-init", ERR, "the init_args value", "an initial value that is not a finite number (1e999 overflows to infinity)", "", "check"),
    ("param-too-large", WARN, "the params dim value", "a parameter over [project] max_param_mb (default 1 GiB); an error when compiling", "", "check"),
    # phase "shapes": symbolic shape inference
    ("shape-mismatch", ERR, "the input whose shape breaks the rule", "dimensions that must agree differ", "", "shapes"),
    ("possible-shape-mismatch", WARN, "the input whose shape may break the rule", "dimensions with different names that may still be equal", "", "shapes"),
    ("rank-mismatch", ERR, "the input of the wrong rank", "an input of a rank the op does not accept", "", "shapes"),
    ("bad-axis", ERR, "the axis attribute value", "an axis outside the input's rank", "", "shapes"),
    ("shape-error", ERR, "the op value or input", "the op's shape rule (or ONNX's inference) rejects the inputs", "", "shapes"),
    ("type-mismatch", ERR, "the input (or export type) whose element type breaks the op's constraint", "an element type the op does not accept, or inputs that must share a type and differ", "", "shapes"),
    ("stale-dim", WARN, "the dim hint value", "a dim hint that disagrees with the inferred shape", "replace with the inferred shape", "shapes"),
    # phase "backend": compiling with weights
    ("weights-mismatch", ERR, "the params dim value", "a stored weight with another element count than its declared dims (check reads the weights file's header; every mismatch is reported at once)", "", "backend"),
    ("weights-reshaped", WARN, "the params dim value", "a stored weight of another shape with as many elements: it is reshaped (not transposed), as the original package does", "", "backend"),
    ("weights-unchecked", INFO, "the weights file", "the weights file's shapes cannot be read without its data (a large protocol-0 pickle or torch record); check skips them", "", "backend"),
    ("weights-unwritable", ERR, "[model] weights in agrippa.toml (or the weights file)", "compile cannot write the weights file (an unknown format, or a value it cannot store)", "", "backend"),
    ("internal-invalid-model", ERR, "the start of the index file", "an internal error: the compiled model fails onnx.checker's full check; nothing is written (please report it)", "", "backend"),
    ("complex-weight", ERR, "the params tag name", "a stored weight with complex values, which would lose its imaginary part", "", "backend"),
    ("unused-weights", WARN, "the weights file", "stored weights the markup no longer uses; they are kept in the file", "", "backend"),
    ("weights-unreadable", ERR, "the weights file", "the weights file is refused (outside the project, not a regular file, over the budget, or malformed)", "", "backend"),
]

CODES: dict[str, Code] = {r[0]: Code(*r) for r in _ROWS}
DOCS = Path(__file__).resolve().parents[3] / "docs" / "diagnostics.md"


def get(name: str) -> Code | None:
    return CODES.get(name)


def doc_url(name: str) -> str | None:
    """A link to the code's entry in docs/diagnostics.md (a file URL: it works offline)."""
    if name not in CODES or not DOCS.is_file():
        return None
    return DOCS.as_uri() + "#" + CODES[name].anchor


def _check(code: str) -> None:
    if code not in CODES:
        raise AssertionError(f"diagnostic code {code!r} is not registered in agrippa.base.codes")


def strict(on: bool = True) -> None:
    """Make every Diagnostic check its code against the registry (the tests turn this on)."""
    diagnostics.CODE_CHECK = _check if on else None


def render_markdown() -> str:
    """docs/diagnostics.md: every code with its severity, range, fixes and summary."""
    out = ["# Diagnostic codes", "",
           "Generated from `compiler/agrippa/base/codes.py` (`python -m agrippa.base.codes`).",
           "Each code's default severity, the part of the markup its range marks, and the quick",
           "fixes the editor offers. Severity may differ by context (for example `unbound-var`",
           "is an error when compiling and silent in the editor, where names stay symbolic).", ""]
    phase = None
    for c in CODES.values():
        if c.phase != phase:
            phase = c.phase
            out += [f"## Phase: {phase}", ""]
        out += [f"### {c.name}", "", c.summary[0].upper() + c.summary[1:] + ".", "",
                f"- severity: {c.severity.label}", f"- range: {c.marks}"]
        if c.fixes:
            out.append(f"- quick fix: {c.fixes}")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
