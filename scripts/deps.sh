#!/usr/bin/env bash
# Installs, from Debian's packages and the npm registry, whatever the build,
# the private services and the tests need. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libboost-dev nlohmann-json3-dev default-libmysqlclient-dev libspdlog-dev libssl-dev libgtest-dev
  mariadb-server nginx
  iproute2 nftables procps curl
  chromium  # the browser tests (tests/integration/browser.test.mjs), driven by npm playwright-core
  gnuplot-nox  # the benchmark's plots (bench/run.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js (with npm) runs the WebSocket and browser tests; some images ship their own build.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests' npm packages (the independent WebSocket client, the browser driver). npm keeps a copy of what it
# installed in node_modules/.package-lock.json: reinstall only when the manifest is newer.
installed=tests/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ tests/package.json -nt "$installed" ] || [ tests/package-lock.json -nt "$installed" ]; then
  echo "deps: installing npm packages for tests"
  (cd tests && npm install --no-audit --no-fund --silent)
  touch "$installed"
fi
