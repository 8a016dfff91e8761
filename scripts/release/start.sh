#!/usr/bin/env bash
# Starts this release's node in the background with nohup, once: a second start while it
# runs does nothing. Output goes to log.log, the pid to chat.pid (both beside this script).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f chat.conf ]; then
  cp chat.conf.sample chat.conf
  echo "start.sh: created chat.conf from chat.conf.sample; review it before a real deployment"
fi
if ./status.sh >/dev/null; then
  echo "chat is already running (pid $(cat chat.pid))"
  exit 0
fi

nohup ./chat --config chat.conf >> ./log.log 2>&1 &
pid=$!
echo "$pid" > chat.pid

# A bad config or a taken port ends the process at once: say so instead of "started".
for _ in 1 2 3 4 5 6 7 8 9 10; do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$pid" 2>/dev/null; then
  rm -f chat.pid
  echo "chat failed to start; the end of log.log:" >&2
  tail -n 5 log.log >&2
  exit 1
fi
echo "chat started (pid $pid)"
