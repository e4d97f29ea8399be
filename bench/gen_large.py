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


if __name__ == "__main__":
    sys.stdout.write(large_model(int(sys.argv[1]) if len(sys.argv) > 1 else 15_000))
