#!/usr/bin/env bash
# Installs what acmekit's demo and tests need on a fresh Debian machine (run as root):
# Pebble and its challenge test server, openssl, and the npm packages from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends pebble openssl ca-certificates
elif ! command -v pebble >/dev/null; then
  echo "pebble is missing: run this script as root, or: sudo apt-get install pebble" >&2
  exit 1
fi
# npm ci refuses this lockfile here (optional platform packages of biome are missing from it, an npm 11 quirk);
# npm install with the committed lockfile installs the same versions.
npm install --no-audit --no-fund
