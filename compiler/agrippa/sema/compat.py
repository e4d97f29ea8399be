"""The compatibility policy with the original Agrippa package, in one place.

The policy (docs/language.md §9.11 states it for users):

1. **Same result.** Whatever the original package compiles, this project compiles to the
   same graph: the same tensor, node and parameter names (the keys of existing weight
   files) and the same outputs.
2. **Stricter rules are warnings.** Where this project is stricter than the original (an
   attribute the original ignores, a `dim` hint that disagrees, dims that agree only for
   the bound values), it reports a *warning*, with a quick fix where one is clear. A rule
   is an *error* only where the original would write an invalid model or crash.
3. **Names resolve against the flat graph.** A reference the expander has not renamed is
   looked up as written in the flat graph, as the original passes such names through:
   `<input src="h$2"/>` reads the third copy of `h`.
4. **Never an invalid file.** Where the original would write two values under one ONNX
   name (an output and a parameter both named `gain` in a repeated block), the value, never
   the parameter, gets a fresh name and a warning says so; the outputs are the same.

This module holds the policy's tables and messages; the expansion (`sema.expand`) applies
them where it meets each case.
"""
from __future__ import annotations

import functools

from agrippa.base.diagnostics import Fix, Range, TextEdit
from agrippa.project.toml_text import set_key

ORIGINAL_OPSET = 13
"""The opset the original compiles against (LANGUAGE.md §5); the default of a project."""

NODE_NAME_SLIP = "name"
"""`name=` on a `<node>`: real projects write it where `title=` was meant; the original
ignores it (LANGUAGE.md §2)."""

RENAMED_SUFFIX = "$value"
"""Appended (then `$value$2`, ...) to a value whose ONNX name a parameter, graph input or
constant already holds (policy point 4)."""



def name_for_title_message(has_title: bool) -> str:
    """The warning for `name=` on a node."""
    if has_title:
        return "`name` is ignored on a node (the node already has a `title`, its name in the ONNX graph)"
    return "`name` is ignored on a node; did you mean `title`?"


def name_for_title_fixes(file: str, name_range: Range, has_title: bool) -> tuple[Fix, ...]:
    """Rename the attribute `name` to `title`, unless the node already has a title."""
    if has_title:
        return ()
    return (Fix("Change 'name' to 'title'", (TextEdit(file, name_range, "title"),), True),)


def unknown_attribute_message(op: str, name: str, close: list[str], known: list[str]) -> str:
    """The warning for an attribute the op does not take (ignored, as the original does)."""
    msg = f"{op} has no attribute '{name}'; it is ignored"
    if close:
        return msg + f"; did you mean '{close[0]}'?"
    if known:
        return msg + f" ({op} takes: {', '.join(known)})"
    return msg + f" ({op} takes none)"


def renamed_value_message(old: str, new: str, holder: str) -> str:
    """The warning for a value renamed because `holder` already has its ONNX name."""
    return (f"the ONNX name '{old}' is already the name of {holder}; this value is named '{new}' "
            f"instead (the original package would write an invalid model with both)")


def opset_message(op: str, needed: int, current: int) -> str:
    """An op that exists, but only from a later opset than the project's."""
    return f"{op} needs opset ≥ {needed}; this project uses {current}"


def opset_fix(toml_path: str, text: str | None, opset: int) -> Fix:
    """Set `[model] opset = <opset>` in agrippa.toml (`text` None: the file is created)."""
    rng, new = set_key(text, "model.opset", str(opset))
    return Fix(f"Set [model] opset = {opset} in agrippa.toml", (TextEdit(toml_path, rng, new),), True,
               creates=toml_path if text is None else None)


@functools.lru_cache(maxsize=4096)
def symbolic_dims(text: str) -> tuple | None:
    """A dim list as written, every binding name left a symbol (`[dmodel, nvocab]`), or None."""
    from agrippa.sema.values import ValueError_, evaluate, parse_value

    try:
        v = evaluate(parse_value(text), {}, symbolic=True)
    except (ValueError_, ValueError, TypeError):
        return None
    return tuple(v) if isinstance(v, list) else (v,)


def symbolic_disagreement(first: tuple, second: tuple) -> list[str]:
    """The dims, as `a = b` texts, where two dim lists written with binding names differ
    symbolically (`[dmodel, nvocab]` vs `[nvocab, dmodel]` gives `dmodel = nvocab`). Dims
    written as plain numbers are let be (an example value, not a disagreement)."""
    if len(first) != len(second):
        return []
    out: list[str] = []
    seen: set[frozenset] = set()
    for a, b in zip(first, second):
        if a is b or not (hasattr(a, "free_symbols") and hasattr(b, "free_symbols")):
            continue
        try:
            differ = (a - b).expand() != 0
        except TypeError:
            continue
        if differ and frozenset((str(a), str(b))) not in seen:
            seen.add(frozenset((str(a), str(b))))
            out.append(f"{a} = {b}")
    return out


def format_dims(dims: tuple) -> str:
    """`[dmodel, nvocab]`: dims as symbols print them."""
    return "[" + ", ".join(str(d) for d in dims) + "]"


def symbolic_message(what: str, second: str, first: str, pairs: list[str], bound: bool) -> str:
    """The warning for dims that agree only for the bound values (or only if names are equal)."""
    why = ("they agree only because " if bound else "they differ unless ") + ", ".join(pairs)
    return f"{what} is {second} here but {first} where it is first declared ({why})"
