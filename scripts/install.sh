#!/usr/bin/env bash
# Set up .venv (Python packages, torch pinned to the local CPU build) and run the main job:
# check, compile and train the bundled linear-regression example.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch==2.13.0 is pinned in pyproject's [train] extra: it installs the CPU build from local disk.
.venv/bin/python -m pip install -q -e ".[train,dev]"
# the graph view (`agrippa view`, the editors' graph): TypeScript + elkjs, bundled into
# compiler/agrippa/resources/graph-view.js
if command -v npm >/dev/null; then
  (cd graph-view && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
else
  echo "npm not found: \`agrippa view\` needs graph-view built (cd graph-view && npm ci && npm run build)" >&2
fi
if [ "${AGRIPPA_SKIP_DEMO:-0}" != 1 ]; then
  echo "== agrippa check examples/linreg"
  .venv/bin/agrippa check examples/linreg
  echo "== agrippa compile examples/linreg"
  .venv/bin/agrippa compile examples/linreg -o "${TMPDIR:-/tmp}/linreg.onnx" --no-weights
  if .venv/bin/agrippa train --help >/dev/null 2>&1; then
    echo "== agrippa train examples/linreg"
    .venv/bin/agrippa train examples/linreg
  fi
fi
