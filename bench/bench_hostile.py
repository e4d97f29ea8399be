"""The hostile corpus of issue 12, before and after: every case of its "What broke" list,
through `agrippa check --format json` (or `compile`) in a subprocess and through the
language server over stdio.

For each case it prints: the issue's figure (before), the CLI's wall time, CPU time and
peak RSS (`os.wait4`'s rusage of that child) and the diagnostic codes it printed; the
server's time from didOpen to its first publishDiagnostics, its CPU time and peak RSS
(VmHWM in /proc) by then, the codes published, and how long a hover in another file
took afterwards (the server still answers).

    .venv/bin/python bench/bench_hostile.py [--only NAME ...] [--no-server] [--markdown]

Figures, never assertions: the machine is shared (compare CPU times when the load is high).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsp_client import RpcClient, start_server  # noqa: E402

IO = '<import from="x" dim="[3, 4]" />'
SECRET = "SECRET-7731"
NODE = '<node op="Relu"><input src="x"/><output name="y"/></node>'
GOOD = (f'<model>{IO}\n<block>\n<node op="MatMul"><input src="x"/><params name="W" dim="[4, 2]"/>'
        '<output name="y"/></node>\n</block>\n<export from="y" dim="[3, 2]"/>\n</model>\n')
CLI_TIMEOUT = 120.0
SERVER_TIMEOUT = 120.0


@dataclass
class Case:
    name: str
    before: str  # the figure
    files: Callable[[Path, Path], dict[str, str | bytes]]  # (project, secret) -> files
    setup: Callable[[Path, Path], None] = lambda project, secret: None  # links, FIFOs
    command: tuple[str, ...] = ("check",)
    open_file: str = "main.agr"


def _sourcing(src: str) -> dict[str, str | bytes]:
    return {"main.agr": f'<model>{IO}<block src="{src}" name="s"/><export from="x" dim="[3, 4]"/></model>'}


def _chain(n: int, sep: str) -> str:
    return sep.join(f'<node op="Relu"><input src="{"x" if i == 0 else f"y{i - 1}"}"/><output name="y{i}"/></node>'
                    for i in range(n))


def _one_line_5mb() -> str:
    per = len(_chain(1, "")) + 2
    n = 5_000_000 // per
    return f'<model>{IO}<block>{_chain(n, "")}</block><export from="y{n - 1}" dim="[3, 4]"/></model>'


def _nodes(n: int) -> str:
    return (f"<model>\n{IO}\n<block>\n{_chain(n, chr(10))}\n</block>\n"
            f'<export from="y{n - 1}" dim="[3, 4]"/>\n</model>\n')


def _diamond() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"main.agr": f'<model>{IO}<block src="f0.agr" name="r"/></model>',
                                     "f30.agr": "<block></block>"}
    for i in range(30):
        files[f"f{i}.agr"] = f'<block><block src="f{i + 1}.agr" name="a"/><block src="f{i + 1}.agr" name="b"/></block>'
    return files


def _dag(levels: int) -> bytes:
    out = b")q\x000"
    for i in range(levels):
        out += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1]) + b"0"
    return out + b"h" + bytes([levels])


ADD = (f'<model>{IO}<block><node op="Add"><input src="x"/><params name="b" dim="[4]"/><output name="y"/>'
       '</node></block><export from="y" dim="[3, 4]"/></model>')
DTYPE_BOMB = b"\x80\x02}X\x01\x00\x00\x00wcnumpy\ndtype\n" + _dag(60) + b"\x85Rs."
KEY_BOMB = b"\x80\x02}" + _dag(60) + b"Ns."


def _link(name: str, to: str | Callable[[Path, Path], Path]) -> Callable[[Path, Path], None]:
    def setup(project: Path, secret: Path) -> None:
        (project / name).symlink_to(to(project, secret) if callable(to) else to)
    return setup


def _fifo(project: Path, secret: Path) -> None:
    os.mkfifo(project / "pipe.agr")


def _one_file(text: str) -> Callable[[Path, Path], dict[str, str | bytes]]:
    return lambda p, s: {"main.agr": text}


CASES = [
    Case("src ../../etc/passwd", "read", lambda p, s: _sourcing("../../etc/passwd")),
    Case("src absolute secret", "read", lambda p, s: _sourcing(str(s))),
    Case("sourced symlink to secret", "read, leaked in a diagnostic", lambda p, s: _sourcing("blocks.agr"),
         _link("blocks.agr", lambda p, s: s)),
    Case("[model] index = secret", "read", lambda p, s: {"agrippa.toml": f'[model]\nindex = "{s}"\n',
                                                          "main.agr": f"<model>{IO}</model>"}),
    Case("src /dev/zero", "> 3 GB", lambda p, s: _sourcing("/dev/zero")),
    Case("src /dev/urandom", "> 3 GB", lambda p, s: _sourcing("/dev/urandom")),
    Case("symlink to /dev/zero", "> 3 GB", lambda p, s: _sourcing("z.agr"), _link("z.agr", "/dev/zero")),
    Case("index = /dev/zero", "> 3 GB", lambda p, s: {"agrippa.toml": '[model]\nindex = "z.agr"\n',
                                                       "main.agr": f"<model>{IO}</model>"},
         _link("z.agr", "/dev/zero")),
    Case("sourced FIFO", "hangs for good", lambda p, s: _sourcing("pipe.agr"), _fifo),
    Case("1,000,000 unknown entities", "55-56 s, 2.4 GB (server)", _one_file(
        f"<model>{IO}<block><node op='Relu' title='" + "&foo;" * 1_000_000 + "'><input src='x'/>"
        "<output name='y'/></node></block></model>")),
    Case("1,000,000 stray <", "55-56 s, 2.4 GB (server)", _one_file(f"<model>{IO}" + "< " * 1_000_000 + "</model>")),
    Case("100,000 unknown attributes", "15 s (CLI)", _one_file(
        f"<model>{IO}<block><node op='Relu' " + " ".join(f'a{i}="1"' for i in range(100_000))
        + "><input src='x'/><output name='y'/></node></block></model>")),
    Case("5 MB single line", "21 s", lambda p, s: {"main.agr": _one_line_5mb()}),
    Case("5 MB line, one schema error", "-", lambda p, s: {"main.agr": _one_line_5mb().replace(
        "<block>", "<block><foo/>", 1)}),
    Case("60,000 nodes", "15 s to first diagnostics", lambda p, s: {"main.agr": _nodes(60_000)}),
    Case("300,000 nodes (past the node budget)", "-", lambda p, s: {"main.agr": _nodes(300_000)}),
    Case("30,000 distinct schema mistakes", "-", _one_file(
        f"<model>\n{IO}\n<block>\n" + "\n".join(
            f'<node op="Add"><input src="x"/><params name="W{i}" dim="bad{i}"/><output name="y{i}"/></node>'
            for i in range(30_000)) + "\n</block>\n</model>\n")),
    Case("huge sympy powers", "15 s", _one_file(
        f'<model><import from="x" dim="[expr(n ^ 4000 * m ^ 4000 + n ^ 3999), 4]"/><block>{NODE}</block>'
        '<export from="y" dim="[3, 4]"/></model>')),
    Case("floor-division chain", "recursion traceback", _one_file(
        f'<model><import from="x" dim="[expr(n{" // 2" * 240}), 4]" /><block>{NODE}</block>'
        '<export from="y" dim="[3, 4]"/></model>')),
    Case("diamond of 30 sourced files", "hangs", lambda p, s: _diamond()),
    Case("pickle bomb: numpy.dtype DAG", "hangs compile, 1.6-3 GB",
         lambda p, s: {"main.agr": ADD, "weights.pkl": DTYPE_BOMB}, command=("compile",)),
    Case("pickle bomb: dict-key DAG", "hangs compile, 1.6-3 GB",
         lambda p, s: {"main.agr": ADD, "weights.pkl": KEY_BOMB}, command=("compile",)),
    Case("params dim [30000, 30000]", "3.6 GB allocated, no warning", _one_file(
        f'<model>{IO}<block><node op="MatMul"><input src="x"/><params name="W" dim="[30000, 30000]"/>'
        '<output name="y"/></node></block></model>')),
    Case("deeply nested toml array", "recursion traceback, nothing published",
         lambda p, s: {"agrippa.toml": "[bindings]\nn = " + "[" * 100_000 + "]" * 100_000 + "\n",
                       "main.agr": GOOD}),
    Case("surrogate in a name", "UnicodeEncodeError", _one_file(
        f'<model>{IO}<block><node op="Relu"><input src="x"/><output name="a&#xD800;b"/></node></block></model>')),
    Case("CR-only line endings", "every range on line 0", _one_file(
        GOOD.replace("\n", "\r").replace('op="MatMul"', 'op="MatMux"'))),
    Case("CR-only agrippa.toml", "every range on line 0",
         lambda p, s: {"agrippa.toml": "[model]\rindex = \"main.agr\"\r\r[bindings]\rn = true\r", "main.agr": GOOD}),
    Case("UTF-8 BOM", "false 'text outside the root element'", _one_file("\ufeff" + GOOD)),
    Case("10,000 nested blocks", "-", _one_file("<model>" + "<block>" * 10000 + "</block>" * 10000 + "</model>")),
    Case("50 MB file", "-", _one_file(f"<model>{IO}<block>\n" + (NODE + "\n") * (50_000_000 // len(NODE))
                                      + "</block></model>")),
]


@dataclass
class Result:
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    codes: list[str] = field(default_factory=list)
    hover_ms: float | None = None
    note: str = ""


def build(case: Case, root: Path) -> Path:
    project = root / "project"
    project.mkdir(parents=True)
    secret = root / "secret.txt"
    secret.write_text(f'<model><block><node op="{SECRET}"/></block></model>')
    for name, data in case.files(project, secret).items():
        path = project / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_bytes(data.encode("utf-8", "surrogatepass"))
    case.setup(project, secret)
    return project


def _codes(diags: list[dict]) -> list[str]:
    return sorted({str(d.get("code")) for d in diags})


def run_cli(case: Case, project: Path) -> Result:
    """`agrippa check --format json` (or compile) in a subprocess, measured by a wrapper
    process: its `RUSAGE_CHILDREN` is that child's alone (peak RSS, CPU time)."""
    probe = ("import json, resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
             "sys.stdout.buffer.write(json.dumps([u.ru_utime + u.ru_stime, u.ru_maxrss]).encode() + b'\\n')\n"
             "sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr)\n")
    inner = [sys.executable, "-m", "agrippa.cli", *case.command, str(project)]
    inner += ["--format", "json"] if case.command == ("check",) else ["-o", str(project.parent / "out.onnx")]
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", probe, *inner], capture_output=True, timeout=CLI_TIMEOUT,
                           cwd=str(project))
    except subprocess.TimeoutExpired:
        return Result(CLI_TIMEOUT, note="timed out")
    r = Result(time.perf_counter() - t)
    head, _, body = p.stdout.partition(b"\n")
    r.cpu, rss_kb = json.loads(head)
    r.rss_mb = rss_kb / 1024
    text, err = body.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    if case.command == ("check",):
        try:
            r.codes = _codes(json.loads(text))
        except json.JSONDecodeError:
            r.note = "no JSON: " + err.strip()[-120:]
    else:
        r.codes = sorted(set(re.findall(r"\[([a-z][a-z0-9-]+)\]", text + err)))
    if "Traceback" in err:
        r.note = "traceback"
    return r


# -- the server ----------------------------------------------------------------------------------

class Client(RpcClient):
    """Keeps every publishDiagnostics, with the time it came."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.published: list[tuple[float, str, list[dict]]] = []
        self.got = asyncio.Event()
        super().__init__(proc)

    def notification(self, method: str, params: Any) -> None:
        if method == "textDocument/publishDiagnostics":
            self.published.append((time.perf_counter(), params["uri"], params["diagnostics"]))
            self.got.set()

    def proc_stat(self) -> tuple[float, float]:
        """(CPU seconds, peak RSS in MB) of the server so far."""
        return self.cpu_s(), self.status_mb("VmHWM")


def _open(client: Client, path: Path) -> str:
    uri = path.as_uri()
    data = path.read_bytes() if path.is_file() else b""
    text = data.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "agrippa", "version": 1,
                                                            "text": text}})
    return uri


async def run_server(case: Case, project: Path) -> Result:
    workspace = project.parent
    good = workspace / "good"
    good.mkdir(exist_ok=True)
    (good / "main.agr").write_text(GOOD)
    client = Client(await start_server(limit=2**27))
    r = Result()
    try:
        await asyncio.wait_for(client.request("initialize", {
            "processId": os.getpid(), "rootUri": workspace.as_uri(),
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": "ws"}],
            "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}},
                             "workspace": {"configuration": True}}}), 60)
        client.notify("initialized", {})
        t = time.perf_counter()
        _open(client, project / case.open_file)
        try:
            await asyncio.wait_for(client.got.wait(), SERVER_TIMEOUT)
            r.wall = client.published[0][0] - t
        except asyncio.TimeoutError:
            r.wall, r.note = SERVER_TIMEOUT, "nothing published"
        await asyncio.sleep(0.3)  # the other files' publications of the same analysis
        r.cpu, r.rss_mb = client.proc_stat()
        r.codes = sorted({str(d.get("code")) for _, uri, ds in client.published if "/good/" not in uri for d in ds})
        good_uri = _open(client, good / "main.agr")
        h = time.perf_counter()
        try:
            answer = await asyncio.wait_for(client.request("textDocument/hover", {
                "textDocument": {"uri": good_uri}, "position": {"line": 2, "character": 12}}), 30)
            r.hover_ms = (time.perf_counter() - h) * 1000
            if not answer or "MatMul" not in json.dumps(answer):
                r.note += " hover without the op"
        except asyncio.TimeoutError:
            r.note += " no hover answer in 30 s"
    finally:
        try:
            await asyncio.wait_for(client.request("shutdown", None), 10)
            client.notify("exit", None)
            await asyncio.wait_for(client.proc.wait(), 10)
        except (asyncio.TimeoutError, ConnectionError):
            client.proc.kill()
            await client.proc.wait()
        client.reader.cancel()
    return r


def _fmt_codes(codes: list[str], limit: int = 4) -> str:
    return ", ".join(codes[:limit]) + (f" +{len(codes) - limit}" if len(codes) > limit else "") if codes else "(none)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="cases whose name contains one of these")
    ap.add_argument("--no-server", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.only or any(o.lower() in c.name.lower() for o in args.only)]
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="agrippa-hostile-") as tmp:
            cli = run_cli(case, build(case, Path(tmp) / "cli"))
            srv = asyncio.run(run_server(case, build(case, Path(tmp) / "srv"))) if not args.no_server else None
        rows.append((case, cli, srv))
        _print_row(case, cli, srv, args.markdown, first=len(rows) == 1)
        sys.stdout.flush()


def _print_row(case: Case, cli: Result, srv: Result | None, markdown: bool, first: bool) -> None:
    cols = [case.name, case.before, f"{cli.wall:.2f} s ({cli.cpu:.2f} s CPU)", f"{cli.rss_mb:.0f} MB",
            _fmt_codes(cli.codes) + (f" [{cli.note.strip()}]" if cli.note else "")]
    head = ["case", "before (issue)", "CLI time", "CLI peak RSS", "CLI outcome"]
    if srv is not None:
        hover = f"{srv.hover_ms:.0f} ms" if srv.hover_ms is not None else "none"
        cols += [f"{srv.wall:.2f} s ({srv.cpu:.1f} s CPU)", f"{srv.rss_mb:.0f} MB",
                 _fmt_codes(srv.codes) + (f" [{srv.note.strip()}]" if srv.note else ""), hover]
        head += ["server: first publish", "server peak RSS", "server outcome", "hover after"]
    if markdown:
        if first:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
        print("| " + " | ".join(cols) + " |")
    else:
        print("  ·  ".join(f"{h}: {c}" for h, c in zip(head, cols)))


if __name__ == "__main__":
    main()
