#!/usr/bin/env bash
# The bus benchmark: builds the Release node (unless CHAT_BIN names one), then runs
# bench/bus/bench.mjs, which makes a LAN of network namespaces (3 nodes), measures throughput,
# latency and NAK/retransmit overhead with clean links and with 5% loss, prints a table and
# writes bench/results/bus-<date>-<hhmm>.json. Everything it creates is removed at the end.
# Needs root (network namespaces, nftables). Bounded: each phase stops after
# BENCH_PHASE_LIMIT_S (60) seconds; sizes via BENCH_MESSAGES, BENCH_LATENCY_MESSAGES,
# BENCH_LATENCY_RATE (see bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
  echo "bench/bus: SKIPPED: needs root for network namespaces" >&2
  exit 0
fi
if [ -z "${CHAT_BIN:-}" ]; then
  bash scripts/build.sh Release
  CHAT_BIN="$(pwd)/build/chat"
elif [ "${CHAT_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi
export CHAT_BIN
# The whole run is bounded too, whatever happens inside it (3 conditions x 3 phases).
exec timeout --signal=TERM --kill-after=20 900 node bench/bus/bench.mjs
