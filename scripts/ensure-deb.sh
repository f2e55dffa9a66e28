#!/usr/bin/env bash
# Usage: scripts/ensure-deb.sh BINARY PACKAGE
# Makes sure BINARY exists, installing the distribution's PACKAGE (without
# its recommended packages) when it is missing. Prints the path of the
# binary on stdout; messages go to stderr. Fast and silent when the binary
# is already there. The ensure-*.sh scripts for the tests' real peers use it.
set -euo pipefail

bin="$1" pkg="$2"
log() { echo "ensure-$pkg: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$bin" ]; then
  log "installing $pkg"
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"; } >"$out" 2>&1; then
    cat "$out" >&2
    log "installing the $pkg package failed"
    exit 1
  fi
fi
[ -x "$bin" ] || { log "$bin is missing after the install"; exit 1; }
echo "$bin"
