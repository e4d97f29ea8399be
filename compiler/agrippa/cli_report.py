"""The command line's conventions, apart from cli.py: `--version`, `agrippa check -` (one
file from standard input), the exit codes and `agrippa check --format sarif`.

Exit codes: 0 clean, 1 the model has errors, 2 a usage or I/O error (a missing path,
unreadable standard input; argparse's own usage errors exit 2 as well).

SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/) is what code-scanning
services read: one run whose tool lists every code of the diagnostic-code registry
(`agrippa.base.codes`) as a rule, and one result per diagnostic. Artifact URIs are
relative to the project folder (`uriBaseId` PROJECTROOT, given in `originalUriBaseIds`);
regions are 1-based, end column exclusive, counted in code points (`columnKind`).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from agrippa.base.diagnostics import Diagnostic, Location, RelatedInfo, Severity

if TYPE_CHECKING:  # pragma: no cover
    from agrippa.sema.analysis import Analysis

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
STDIN = "-"
STDIN_COMMANDS = ("check", "fmt")  # the subcommands that take `-` for standard input
STDIN_NAME = "<stdin>"  # the name diagnostics give standard input's text (as if in the current folder)
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
DOCS_ENV = "AGRIPPA_DOCS_URL"  # a base URL where docs/ is published, for the rules' helpUri
ROOT_ID = "PROJECTROOT"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFORMATION: "note", Severity.HINT: "note"}


def version() -> str:
    from agrippa import __version__

    return __version__


def version_text() -> str:
    """What `agrippa --version` prints."""
    return f"agrippa {version()} (Python {sys.version.split()[0]})"


# -- paths and standard input ------------------------------------------------------------
def path_problem(args: argparse.Namespace) -> str | None:
    """Why the subcommand's path argument cannot be used (a usage error, exit 2), or None."""
    for attr in ("path", "project"):
        value = getattr(args, attr, None)
        if not isinstance(value, str):
            continue
        if value == STDIN:
            if args.command in STDIN_COMMANDS:
                continue
            return f"'-' (standard input) is not a path `agrippa {args.command}` can use"
        if not os.path.exists(value):
            return f"no such file or folder: {value}"
        if not (os.path.isdir(value) or os.path.isfile(value)):
            return f"not a file or folder: {value}"
    return None


def read_stdin(stream=None) -> tuple[str | None, str | None]:
    """The text on standard input (UTF-8, a BOM dropped, size-capped), or None and why not."""
    from agrippa.base.text import decode_source
    from agrippa.project.files import MAX_FILE_BYTES

    stream = stream if stream is not None else sys.stdin.buffer
    try:
        data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, f"cannot read standard input: {e.strerror or e}"
    if len(data) > MAX_FILE_BYTES:
        return None, f"standard input is over {MAX_FILE_BYTES // (1024 * 1024)} MiB"
    return decode_source(data)


def stdin_path() -> str:
    """The absolute path standard input's text stands for: `<stdin>` in the current folder."""
    return os.path.join(os.getcwd(), STDIN_NAME)


def analyze_stdin(text: str, args: argparse.Namespace) -> Analysis:
    """Analyse `text` as one file in the current folder (its project: the nearest
    agrippa.toml upwards); files it sources are read from the disk as usual."""
    from agrippa.sema.analysis import analyze

    virtual = stdin_path()

    def provider(path: str) -> str | None:
        return text if path == virtual else None

    return analyze(virtual, bindings=dict(args.bind), index=virtual, profile=args.profile,
                   dynamic=getattr(args, "dynamic", ()) or (), provider=provider)


def analyze_for_check(args: argparse.Namespace) -> Analysis | None:
    """The analysis `agrippa check` reports: of PATH, or of standard input with `-`.
    None (after saying why on stderr) when standard input cannot be read."""
    if args.path == STDIN:
        text, why = read_stdin()
        if text is None:
            print(f"agrippa check: {why}", file=sys.stderr)
            return None
        return analyze_stdin(text, args)
    from agrippa.sema.analysis import analyze

    return analyze(args.path, bindings=dict(args.bind), index=args.index, profile=args.profile,
                   dynamic=getattr(args, "dynamic", ()) or ())


# -- text and JSON ------------------------------------------------------------------------
def _at_text(loc: Location, display: Callable[[str], str]) -> str:
    s = loc.range.start
    return f"{display(loc.file)}:{s.line + 1}:{s.character + 1}"


def diagnostic_text(d: Diagnostic, display: Callable[[str], str]) -> str:
    """`d` as `agrippa check` prints it, the way gcc prints an error in an included file:
    its instance chains first ("In up_attn, sourced at perceiver.agr:33:10:", innermost
    first, the outer ones as "   from ..."), then the line itself, then its other related
    locations as notes."""
    lines: list[str] = []
    chains: list[list[RelatedInfo]] = []
    for r in d.related:
        if r.instance is None:
            continue
        if chains and r.instance.startswith(chains[-1][-1].instance + "$"):
            chains[-1].append(r)
        else:
            chains.append([r])
    for chain in chains:
        for k, r in enumerate(reversed(chain)):
            head = f"In {r.instance}, sourced at" if k == 0 else f"   from {r.instance}, sourced at"
            lines.append(f"{head} {_at_text(r.location, display)}{':' if k == len(chain) - 1 else ','}")
    lines.append(d.to_text(display(d.file)))
    lines.extend(f"{_at_text(r.location, display)}: note: {r.message}" for r in d.related if r.instance is None)
    return "\n".join(lines)


def diagnostic_json(d: Diagnostic, display: Callable[[str], str]) -> dict:
    """`d` as `agrippa check --format json` gives it: with `related` locations (the
    instance chain's carry `instance`) when it has some."""
    out = d.to_json(display(d.file))
    if d.related:
        out["related"] = [{"file": display(r.location.file), "range": r.location.range.to_json(),
                           "message": r.message, **({"instance": r.instance} if r.instance else {})}
                          for r in d.related]
    return out


# -- SARIF -------------------------------------------------------------------------------
def help_uri(code: str) -> str:
    """The rule's documentation: `$AGRIPPA_DOCS_URL/diagnostics.md#code` when set, else the
    docs/diagnostics.md beside the package (a file URI), else that path relative."""
    from agrippa.base.codes import CODES, doc_url

    anchor = CODES[code].anchor if code in CODES else code
    base = os.environ.get(DOCS_ENV, "").strip().rstrip("/")
    if base:
        return f"{base}/diagnostics.md#{anchor}"
    return doc_url(code) or f"docs/diagnostics.md#{anchor}"


def sarif_rules() -> list[dict]:
    """Every registered diagnostic code as a SARIF reportingDescriptor."""
    from agrippa.base.codes import CODES

    rules = []
    for c in CODES.values():
        summary = c.summary[0].upper() + c.summary[1:] + "."
        rules.append({
            "id": c.name,
            "name": "".join(w.capitalize() for w in c.name.split("-")),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": f"{summary} The range marks {c.marks}."
                                + (f" Quick fix: {c.fixes}." if c.fixes else "")},
            "helpUri": help_uri(c.name),
            "help": {"text": f"{summary} See docs/diagnostics.md#{c.anchor}.",
                     "markdown": f"{summary}\n\nRange: {c.marks}." + (f" Quick fix: {c.fixes}." if c.fixes else "")},
            "defaultConfiguration": {"level": _LEVEL[c.severity]},
            "properties": {"phase": c.phase} if c.phase else {},
        })
    return rules


def _artifact(path: str, project_dir: str) -> dict:
    """An artifactLocation: relative to the project folder when inside it, else a file URI."""
    try:
        rel = os.path.relpath(path, project_dir)
    except ValueError:  # another drive (Windows)
        rel = None
    if rel is None or rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        from pathlib import Path

        return {"uri": Path(path).resolve().as_uri()}
    art: dict = {"uri": quote(rel.replace(os.sep, "/")), "uriBaseId": ROOT_ID}
    if os.path.basename(path) == STDIN_NAME and not os.path.exists(path):
        art["description"] = {"text": "standard input"}
    return art


def _region(d: Diagnostic) -> dict:
    s, e = d.range.start, d.range.end
    region = {"startLine": s.line + 1, "startColumn": s.character + 1,
              "endLine": e.line + 1, "endColumn": e.character + 1}
    if (e.line, e.character) <= (s.line, s.character):  # an empty range: one column wide
        region["endLine"], region["endColumn"] = s.line + 1, s.character + 2
    return region


def _location(file: str, d: Diagnostic | None, project_dir: str, message: str | None = None) -> dict:
    loc: dict = {"physicalLocation": {"artifactLocation": _artifact(file, project_dir)}}
    if d is not None:
        loc["physicalLocation"]["region"] = _region(d)
    if message:
        loc["message"] = {"text": message}
    return loc


def sarif_result(d: Diagnostic, project_dir: str, rule_index: dict[str, int]) -> dict:
    result: dict = {"ruleId": d.code, "level": _LEVEL[d.severity], "message": {"text": d.message},
                    "locations": [_location(d.file, d, project_dir)]}
    if d.code in rule_index:
        result["ruleIndex"] = rule_index[d.code]
    if d.related:
        result["relatedLocations"] = [
            {**_location(r.location.file, _at(r.location), project_dir, r.message), "id": i}
            for i, r in enumerate(d.related)]
    return result


def _at(loc) -> Diagnostic:
    """A stand-in diagnostic carrying a related location's range (for _region)."""
    return Diagnostic(loc.file, loc.range, Severity.HINT, "", "")


def to_sarif(diags: list[Diagnostic], project_dir: str) -> dict:
    """The SARIF 2.1.0 log of one `agrippa check` run."""
    rules = sarif_rules()
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    from pathlib import Path

    root_uri = Path(project_dir).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "agrippa",
                "fullName": "agrippa check",
                "version": version(),
                "semanticVersion": version(),
                "rules": rules,
            }},
            "originalUriBaseIds": {ROOT_ID: {"uri": root_uri, "description": {"text": "the project folder"}}},
            "columnKind": "unicodeCodePoints",
            "results": [sarif_result(d, project_dir, rule_index) for d in diags],
        }],
    }


def print_sarif(an: Analysis, out=None) -> None:
    import json

    out = out if out is not None else sys.stdout
    out.write(json.dumps(to_sarif(an.diagnostics, an.project_dir), indent=2) + "\n")
