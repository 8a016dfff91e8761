#!/usr/bin/env bash
# The benchmark suite (README, "Performance"): this machine's floor, then the matrix — one node
# and two nodes; workloads pairs, room (10, 100, 1,000 members), burst, slow, idle, connect —
# against the chat nodes and then the Node.js baseline (bench/baseline/), each run started once
# the CPUs are idle. Writes bench/results/<date>.json and the PNG plots, prints the table.
#
#   bench/run.sh                 the full matrix (~30 min)
#   BENCH_QUICK=1 bench/run.sh   small sizes, < 3 min (a smoke test); results named quick-<date>
#
# CHAT_BIN names the chat binary to measure (default: build/chat, built here). The tools are
# built in build/ (Release, -j${CHAT_JOBS:-2}). bench/suite/config.mjs lists the variables that
# shape the matrix. Everything started is stopped by pid; the whole run is bounded by timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

if [ "${CHAT_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi
installed=bench/baseline/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ bench/baseline/package.json -nt "$installed" ]; then
  echo "bench: installing the baseline's npm packages"
  (cd bench/baseline && npm install --no-audit --no-fund --silent)
  touch "$installed"
fi

# Build only what the suite needs: the tools, and the node unless CHAT_BIN names one.
jobs=${CHAT_JOBS:-2}
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCHAT_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
fi
# Configure explicitly: a build/ configured before bench/ existed does not know its targets yet.
cmake -S . -B build -DCHAT_BENCH=ON >/dev/null
targets=(chat-load chat-floor)
[ -n "${CHAT_BIN:-}" ] || targets+=(chat)
cmake --build build -j"$jobs" --target "${targets[@]}"

# Copies, so that a rebuild of build/ during the run cannot swap the binaries between cells.
bin_dir=var/bench/bin
mkdir -p "$bin_dir"
cp -f "${CHAT_BIN:-build/chat}" "$bin_dir/chat"
cp -f build/bench/chat-load build/bench/chat-floor "$bin_dir/"
export CHAT_BIN="$root_dir/$bin_dir/chat"
export CHAT_LOAD_BIN="$root_dir/$bin_dir/chat-load"
export CHAT_FLOOR_BIN="$root_dir/$bin_dir/chat-floor"
export BENCH_SERVER_LABEL=${BENCH_SERVER_LABEL:-"build/chat at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"}

# The bench's own MariaDB: its own folder and a port nobody else uses.
if [ -z "${BENCH_DB_PORT:-}" ]; then
  BENCH_DB_PORT=$(node -e "import('./tests/integration/lib/ports.mjs').then(async (p) => console.log(await p.freePort()))")
fi
export BENCH_DB_PORT
stop_db() { CHAT_DB_DIR=var/bench-db CHAT_DB_PORT="$BENCH_DB_PORT" bash scripts/db.sh stop >/dev/null 2>&1 || true; }
trap stop_db EXIT

if [ "${BENCH_QUICK:-0}" = 1 ]; then limit=600; else limit=3600; fi
timeout --signal=TERM --kill-after=30 "$limit" node bench/suite/main.mjs
