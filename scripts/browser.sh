#!/usr/bin/env bash
# The headless Chromium that OrderHub's browser tests drive (through Playwright for Python).
#
#   scripts/browser.sh install   apt-get install chromium and fonts-noto-cjk when /usr/bin/chromium
#                                is missing (Debian's packages; nothing is downloaded by Playwright)
#   scripts/browser.sh status    exit 0 when /usr/bin/chromium runs, printing its version
#
# Never run `playwright install`: the tests launch the system's Chromium with executable_path.
set -euo pipefail

CHROMIUM="${ORDERHUB_CHROMIUM:-/usr/bin/chromium}"

log() { printf 'browser.sh: %s\n' "$*" >&2; }

status() {
  [[ -x "$CHROMIUM" ]] || { log "$CHROMIUM is missing: run scripts/browser.sh install"; return 1; }
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --version 2>/dev/null | grep -v '^\s*$' | tail -1
}

install() {
  if [[ -x "$CHROMIUM" ]]; then
    log "$CHROMIUM is already installed"
  else
    command -v apt-get >/dev/null || { log "apt-get not found: install Chromium with your package manager"; exit 1; }
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    log "installing chromium and fonts-noto-cjk with apt-get"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk
  fi
  status
}

case "${1:-}" in
  install) install ;;
  status) status ;;
  *) echo "usage: scripts/browser.sh install|status" >&2; exit 2 ;;
esac
