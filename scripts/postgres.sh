#!/usr/bin/env bash
# Starts a local PostgreSQL for the state-database tests and prints the URL
# to use as CRADLE_TEST_DATABASE_URL. Installs Debian's package when run as
# root and it is missing. Prints nothing (and exits 1) when it cannot.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql (Debian package) for the state-database tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || exit 1
  else
    exit 1
  fi
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$version" ] || exit 1
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 0.2
done
run_psql() { su postgres -c "psql -q -v ON_ERROR_STOP=1 $*" >/dev/null 2>&1; }
run_psql "-c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cradle') THEN CREATE ROLE cradle LOGIN PASSWORD 'cradle'; END IF; END \\\$\\\$;\"" || exit 1
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'cradle_test'\"" | grep -q 1 \
  || run_psql "-c 'CREATE DATABASE cradle_test OWNER cradle'" || exit 1
echo "postgres://cradle:cradle@127.0.0.1/cradle_test"
