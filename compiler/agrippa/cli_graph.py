"""`agrippa graph` (the model's block graph as JSON) and `agrippa view` (one self-contained
HTML file showing it: the graph view's bundle and the graph inlined, no external URLs)."""
from __future__ import annotations

import argparse
import html
import json
import os
import sys
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent / "resources" / "graph-view.js"
BUILD_HINT = "build it with: cd graph-view && npm ci && npm run build (scripts/install.sh does this)"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'; img-src data: blob:; worker-src blob:">
<title>{title}</title>
<style>html,body{{margin:0;height:100%}}#agrippa-graph{{position:fixed;inset:0}}</style>
</head>
<body>
<div id="agrippa-graph"></div>
<script type="application/json" id="agrippa-graph-data">{data}</script>
<script>{bundle}</script>
</body>
</html>
"""


def _script_safe(text: str) -> str:
    """Text that cannot end or confuse a <script> element."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def bundle_text() -> str | None:
    """The built graph view, or None when it was not built."""
    try:
        return BUNDLE.read_text(encoding="utf-8")
    except OSError:
        return None


def render_html(graph: dict, bundle: str, title: str = "Agrippa model") -> str:
    data = _script_safe(json.dumps(graph, separators=(",", ":")))
    return PAGE.format(title=html.escape(title), data=data, bundle=_script_safe(bundle))


def _graph(args: argparse.Namespace) -> tuple[dict | None, object]:
    from agrippa.ide.graph import graph_of

    return graph_of(args.path, bindings=dict(args.bind), profile=args.profile, index=args.index,
                    dynamic=args.dynamic)


def _report_errors(an) -> None:
    for d in an.errors[:50]:
        print(d.to_text(d.file), file=sys.stderr)


def cmd_graph(args: argparse.Namespace) -> int:
    graph, an = _graph(args)
    if graph is None:
        _report_errors(an)
        return 1
    out = json.dumps(graph, indent=2 if args.pretty else None, separators=None if args.pretty else (",", ":"))
    if args.output:
        Path(args.output).write_text(out + "\n", encoding="utf-8")
    else:
        sys.stdout.write(out + "\n")
    return 1 if graph["errors"] and args.strict else 0


def cmd_view(args: argparse.Namespace) -> int:
    bundle = bundle_text()
    if bundle is None:
        print(f"agrippa view: the graph view is not built ({BUNDLE} is missing); {BUILD_HINT}", file=sys.stderr)
        return 2
    graph, an = _graph(args)
    if graph is None:
        _report_errors(an)
        return 1
    if graph["errors"]:
        _report_errors(an)
    index = graph["index"]
    out = args.output or os.path.splitext(index)[0] + ".html"
    title = f"{os.path.basename(index)} — Agrippa"
    try:
        Path(out).write_text(render_html(graph, bundle, title), encoding="utf-8")
    except OSError as e:
        print(f"agrippa view: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    if args.open:
        import webbrowser

        webbrowser.open(Path(out).resolve().as_uri())
    return 0


def add_parsers(sub, common) -> None:
    """Add `graph` and `view` to the CLI's subparsers (`common` adds PATH, --bind, --profile)."""
    g = sub.add_parser("graph", help="print the model's block graph as JSON")
    common(g)
    g.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    g.add_argument("--pretty", action="store_true", help="indent the JSON")
    g.add_argument("--strict", action="store_true", help="exit 1 when the model has errors")
    g.set_defaults(func=cmd_graph)

    v = sub.add_parser("view", help="write the model's graph as one self-contained HTML file")
    common(v)
    v.add_argument("-o", "--output", help="the .html file to write (default: beside the index)")
    v.add_argument("--open", action="store_true", help="open it in the system browser")
    v.set_defaults(func=cmd_view)
