#!/usr/bin/env bash
# Makes sure Prometheus Alertmanager is installed for the integration test
# that sends alerts through a real Alertmanager to Nightjar (package
# integrations), installing the distribution's prometheus-alertmanager
# package when it is missing. Prints the path of the binary on stdout;
# messages go to stderr. Fast and silent when Alertmanager is already there.
#
# The package's service is not wanted: the test starts its own
# Alertmanager on a free port, so the service is stopped and disabled
# when the install started it.
set -euo pipefail

log() { echo "ensure-alertmanager: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

bin=/usr/bin/prometheus-alertmanager
if [ ! -x "$bin" ]; then
  log "installing Alertmanager"
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  # policy-rc.d 101 keeps the package's service from starting during the
  # install; it is removed again afterwards.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
    made_policy=1
  fi
  status=0
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager; } >"$out" 2>&1 || status=$?
  if [ "$made_policy" = 1 ]; then as_root rm -f "$policy"; fi
  if [ "$status" != 0 ]; then
    cat "$out" >&2
    log "installing the prometheus-alertmanager package failed"
    exit 1
  fi
fi
[ -x "$bin" ] || { log "$bin is missing after the install"; exit 1; }
echo "$bin"
