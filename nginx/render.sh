#!/usr/bin/env bash
# Renders nginx.conf from chat.conf.template and a node list.
#   render.sh [--nodes FILE] [--prefix DIR] [--listen ADDR] [--max-body SIZE] > nginx.conf
# Defaults: nodes.txt beside this script, prefix ./var/nginx (absolute), 127.0.0.1:8000, 21m.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nodes=$here/nodes.txt
prefix=$(pwd)/var/nginx
listen=127.0.0.1:8000
max_body=21m
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --max-body) max_body=$2; shift 2 ;;
    *) echo "render.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -r "$nodes" ] || { echo "render.sh: cannot read node list $nodes" >&2; exit 2; }

servers=""
while read -r line; do
  line=${line%%#*}
  line=$(echo "$line" | tr -d '[:space:]')
  [ -z "$line" ] && continue
  # A failed node is left out for fail_timeout (per worker). Short, because a node that is
  # back (restarted after a crash) gets no traffic before it ends: with 10 s, stopping the
  # other node during those seconds left nginx with "no live upstreams" (502) meanwhile.
  servers+="        server $line max_fails=1 fail_timeout=3s;"$'\n'
done < "$nodes"
[ -n "$servers" ] || { echo "render.sh: no nodes in $nodes" >&2; exit 2; }

template=$(cat "$here/chat.conf.template")
template=${template//@PREFIX@/$prefix}
template=${template//@LISTEN@/$listen}
template=${template//@MAX_BODY@/$max_body}
printf '%s\n' "${template//@SERVERS@/${servers%$'\n'}}"
