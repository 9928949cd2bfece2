#!/usr/bin/env bash
# Make sure the machine has what revloop's tests need: Java (for Spark) and a running
# PostgreSQL on 127.0.0.1:5432. Installs Debian packages only when something is missing.
set -euo pipefail

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
if ((${#need_apt[@]})); then
  echo "Installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "Starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 1
  done
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL is not accepting connections on 127.0.0.1:5432" >&2
  exit 1
fi
# The tests connect as 'postgres' without a password (trust auth on loopback).
psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1" >/dev/null || {
  echo "cannot connect to PostgreSQL as user postgres on 127.0.0.1 (trust auth expected)" >&2
  exit 1
}
