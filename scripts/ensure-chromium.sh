#!/usr/bin/env bash
# Makes sure Chromium is installed for the browser tests (package
# browsertest), installing the distribution's chromium package when it is
# missing. Prints the path of the binary on stdout; messages go to stderr.
# Fast and silent when Chromium is already there.
set -euo pipefail

log() { echo "ensure-chromium: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

bin=/usr/bin/chromium
if [ ! -x "$bin" ]; then
  log "installing Chromium"
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  # The recommended packages (sandbox helper, desktop services) are of no
  # use to a headless browser run by tests.
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >"$out" 2>&1; then
    cat "$out" >&2
    log "installing the chromium package failed"
    exit 1
  fi
fi
[ -x "$bin" ] || { log "$bin is missing after the install"; exit 1; }
echo "$bin"
