#!/usr/bin/env bash
# The CJK font that the draft tests and bench/unstructured.py render chat screenshots with.
#
#   scripts/fonts.sh install   apt-get install fonts-noto-cjk when the font file is missing
#   scripts/fonts.sh status    exit 0 when the font file is there, printing its path
set -euo pipefail

FONT="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

log() { printf 'fonts.sh: %s\n' "$*" >&2; }

status() {
  [[ -f "$FONT" ]] || { log "$FONT is missing: run scripts/fonts.sh install"; return 1; }
  echo "$FONT"
}

install() {
  if [[ -f "$FONT" ]]; then
    log "fonts-noto-cjk is already installed"
  else
    command -v apt-get >/dev/null || { log "apt-get not found: install fonts-noto-cjk with your package manager"; exit 1; }
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    log "installing fonts-noto-cjk with apt-get"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends fonts-noto-cjk
  fi
  status
}

case "${1:-}" in
  install) install ;;
  status) status ;;
  *) echo "usage: scripts/fonts.sh install|status" >&2; exit 2 ;;
esac
