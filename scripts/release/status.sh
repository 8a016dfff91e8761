#!/usr/bin/env bash
# Says whether this release's node runs. Exit 0: running; 3: not running.
# The pid must belong to this folder's ./chat, so a recycled pid is not mistaken for it.
cd "$(dirname "$0")" || exit 3
if [ -f chat.pid ]; then
  pid=$(cat chat.pid)
  if [ -n "$pid" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f ./chat)" ]; then
    echo "chat is running (pid $pid)"
    exit 0
  fi
fi
echo "chat is not running"
exit 3
