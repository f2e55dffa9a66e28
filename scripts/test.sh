#!/usr/bin/env bash
# Runs Nightjar's whole test suite against real SQLite and PostgreSQL, real
# headless Chromium, a real Alertmanager and a real Prometheus, installing
# and starting PostgreSQL and installing Chromium, Alertmanager and
# Prometheus first when they are missing. Extra arguments go to `go test`
# (e.g. -run TestPing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${NIGHTJAR_TEST_POSTGRES_URL:-}" != "off" ]; then
  NIGHTJAR_TEST_POSTGRES_URL="${NIGHTJAR_TEST_POSTGRES_URL:-$(scripts/ensure-postgres.sh)}"
  export NIGHTJAR_TEST_POSTGRES_URL
fi
if [ "${NIGHTJAR_TEST_CHROMIUM:-}" != "off" ]; then
  NIGHTJAR_TEST_CHROMIUM="${NIGHTJAR_TEST_CHROMIUM:-$(scripts/ensure-chromium.sh)}"
  export NIGHTJAR_TEST_CHROMIUM
fi
if [ "${NIGHTJAR_TEST_ALERTMANAGER:-}" != "off" ]; then
  NIGHTJAR_TEST_ALERTMANAGER="${NIGHTJAR_TEST_ALERTMANAGER:-$(scripts/ensure-alertmanager.sh)}"
  export NIGHTJAR_TEST_ALERTMANAGER
fi
if [ "${NIGHTJAR_TEST_PROMETHEUS:-}" != "off" ]; then
  NIGHTJAR_TEST_PROMETHEUS="${NIGHTJAR_TEST_PROMETHEUS:-$(scripts/ensure-prometheus.sh)}"
  export NIGHTJAR_TEST_PROMETHEUS
fi

go vet ./...
go test -count=1 -timeout 20m "$@" ./...
