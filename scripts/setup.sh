#!/usr/bin/env bash
# Installs what acmekit's demo and tests need on a fresh Debian machine (run as root):
# Pebble and its challenge test server, lego (test/e2e/lego-interop.test.ts runs it on acmekit's
# folders and acmekit on its), BIND 9 (authoritative DNS for the dns-01 tests, with nsupdate and dig),
# PowerDNS with its sqlite3 backend and the sqlite3 tool (the pdns provider's tests run the real server),
# openssl, and the npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends pebble lego bind9 bind9-utils bind9-dnsutils postgresql redis-server wrk openssl ca-certificates faketime pdns-server pdns-backend-sqlite3 sqlite3
  # The tests start their own pdns_server; the packaged service would only compete for port 53.
  if [ -d /run/systemd/system ]; then systemctl disable --now pdns.service || true; fi
elif ! command -v pebble >/dev/null || ! command -v named >/dev/null; then
  echo "pebble or named is missing: run this script as root, or: sudo apt-get install pebble bind9 bind9-utils bind9-dnsutils" >&2
  exit 1
fi
# npm ci refuses this lockfile here (optional platform packages of biome are missing from it, an npm 11 quirk);
# npm install with the committed lockfile installs the same versions.
npm install --no-audit --no-fund
