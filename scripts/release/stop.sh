#!/usr/bin/env bash
# Stops this release's node: SIGTERM (the node closes its WebSockets with 1001 and exits),
# then waits up to 20 s for it to go.
set -euo pipefail
cd "$(dirname "$0")"

if ! ./status.sh >/dev/null; then
  echo "chat is not running"
  rm -f chat.pid
  exit 0
fi
pid=$(cat chat.pid)
kill -TERM "$pid"
for _ in $(seq 1 200); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f chat.pid
    echo "chat stopped (pid $pid)"
    exit 0
  fi
  sleep 0.1
done
echo "stop.sh: chat (pid $pid) did not stop within 20 s" >&2
exit 1
