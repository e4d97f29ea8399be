"""A generated Agrippa model of about N lines (default 15,000) for benchmarks."""
from __future__ import annotations

import sys


def large_model(target_lines: int = 15_000) -> str:
    lines = ["<model>", '  <import from="x0" dim="[var(n), var(d)]" />']
    i = 0
    while len(lines) < target_lines - 3:
        lines.append(f'  <block title="Layer{i}">')
        for j in range(10):
            k = i * 10 + j
            op = ("Relu", "Sigmoid", "Tanh")[k % 3]
            lines += [f'    <node op="{op}" title="act{k}">',
                      f'      <input src="x{k}" dim="[var(n), var(d)]" />',
                      f'      <output name="x{k + 1}" dim="[var(n), var(d)]" />',
                      "    </node>"]
        lines.append("  </block>")
        i += 1
    lines.append(f'  <export from="x{i * 10}" dim="[var(n), var(d)]" />')
    lines.append("</model>")
    return "\n".join(lines) + "\n"


def mlp_model(lines: int) -> tuple[str, str]:
    """A deep MLP of about `lines` lines, and its agrippa.toml."""
    head = '<model>\n    <import from="x0" dim="[var(batch), var(d)]" />\n'
    layer = """    <block title="Layer {i}">
        <import from="x{i}" />
        <node op="MatMul" title="L{i:05d}">
            <input src="x{i}" />
            <params name="W" dim="[var(d), var(d)]" />
            <output name="h{i}" />
        </node>
        <node op="Add" title="Bias {i}">
            <input src="h{i}" />
            <params name="b" dim="[var(d)]" init="zeros" />
            <output name="a{i}" />
        </node>
        <node op="Relu" title="Act {i}">
            <input src="a{i}" />
            <output name="x{j}" />
        </node>
        <export from="x{j}" />
    </block>
"""
    n = max(1, (lines - 4) // layer.count("\n"))
    body = "".join(layer.format(i=i, j=i + 1) for i in range(n))
    text = head + body + f'    <export from="x{n}" dim="[var(batch), var(d)]" />\n</model>\n'
    return text, "[bindings]\nbatch = 4\nd = 16\n"


if __name__ == "__main__":
    sys.stdout.write(large_model(int(sys.argv[1]) if len(sys.argv) > 1 else 15_000))
