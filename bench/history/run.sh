#!/usr/bin/env bash
# The history benchmark: builds the Release node (unless CHAT_BIN names one), then runs
# bench/history/bench.mjs: messages stored per second (each committed before its ack) and the
# time a device that missed 10,000 messages takes to catch up, and what a third node that holds
# none of the recipients spends per datagram it drops, beside what a socket that only receives
# the same datagrams spends (chat-floor --udp-port, from the Release build). Three nodes on
# loopback and a private MariaDB under var/bench-history-db; everything it starts is stopped at
# the end.
# Sizes via BENCH_MESSAGES, BENCH_SENDERS, BENCH_WINDOW, BENCH_MISSED (see bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${CHAT_BIN:-}" ]; then
  bash scripts/build.sh Release
  CHAT_BIN="$(pwd)/build/chat"
elif [ "${CHAT_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi
export CHAT_BIN
# Bounded whatever happens inside (two phases of at most BENCH_PHASE_LIMIT_S each).
exec timeout --signal=TERM --kill-after=20 600 node bench/history/bench.mjs
