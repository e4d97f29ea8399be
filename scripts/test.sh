#!/usr/bin/env bash
# Run every test: lint, the Python suite (compiler, server, training, editors), conformance
# with the original package, and the VS Code extension's unit tests. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || AGRIPPA_SKIP_DEMO=1 bash scripts/install.sh
.venv/bin/python -m pip install -q -e ".[train,dev]"
if [ -f scripts/setup_editors.sh ] && [ "${AGRIPPA_SKIP_EDITORS:-0}" != 1 ]; then
  bash scripts/setup_editors.sh
fi
if command -v npm >/dev/null && [ -d vscode-extension/node_modules ]; then
  echo "== VS Code extension unit tests"
  (cd vscode-extension && npm test)
fi
if command -v npm >/dev/null && [ ! -f compiler/agrippa/resources/graph-view.js ]; then
  (cd graph-view && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi
echo "== ruff"
.venv/bin/ruff check .
echo "== import-linter (the layers of ARCHITECTURE.md)"
.venv/bin/lint-imports
if [ -f ../shared/conformance/check.py ]; then
  echo "== conformance with the original package"
  .venv/bin/python ../shared/conformance/check.py | tee /tmp/agrippa-conformance.txt
  grep -q " 0 failed" /tmp/agrippa-conformance.txt
fi
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
