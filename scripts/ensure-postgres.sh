#!/usr/bin/env bash
# Makes a PostgreSQL server answer on 127.0.0.1:5432 for the test suite:
# uses a running one, starts an installed one, or installs one from the
# distribution's packages. Prints the URL tests should use on stdout.
set -euo pipefail

log() { echo "ensure-postgres: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
pg_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! pg_answers; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing PostgreSQL"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  version="$(ls /etc/postgresql | sort -n | tail -1)"
  if ! pg_answers; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  fi
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
fi
pg_answers || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }

# A role and database the tests can use whatever the server's auth rules
# are: trust ignores the password, md5/scram checks it.
psql_admin() {
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
  else
    as_root su postgres -c "psql -v ON_ERROR_STOP=1 -tAc \"$1\""
  fi
}
if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d test -tAc 'SELECT 1' >/dev/null 2>&1; then
  log "preparing role postgres and database test"
  psql_admin "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  if [ -z "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'test'")" ]; then
    psql_admin "CREATE DATABASE test" >/dev/null
  fi
fi
echo "postgres://postgres:postgres@127.0.0.1:5432/test?sslmode=disable"
