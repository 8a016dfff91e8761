#!/usr/bin/env bash
# Runs the product locally, the way operators run it on a LAN: a release built by
# release.sh, one copy per node started with its own start.sh (nohup), a private MariaDB,
# and a private nginx in front.
#   scripts/run.sh          start (idempotent: what already runs is left as it is)
#   scripts/run.sh stop     stop everything this script started, by pid
#   scripts/run.sh status
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
run=$root/var/run
ngx=$root/var/nginx
nodes=(1 2)
http_port() { echo $((8080 + $1)); }
admin_port() { echo $((9080 + $1)); }
public=127.0.0.1:8000
# run.sh's own database, whatever a caller exported for db.sh (scripts/test.sh points it at the
# test database): `run.sh stop` must stop the database `run.sh` started, and no other.
export CHAT_DB_DIR=$root/var/db CHAT_DB_PORT=3307 CHAT_DB_NAME=chat

log() { printf 'run.sh: %s\n' "$*"; }

node_conf() {
  local n=$1
  cat <<EOC
listen = 127.0.0.1:$(http_port "$n")
admin-listen = 127.0.0.1:$(admin_port "$n")
node-id = $n
bus-broadcast = 127.255.255.255
bus-port = 3000
bus-key-file = $run/bus.key
mysql = $(scripts/db.sh dsn)
upload-dir = $run/upload
log-level = info
threads = $(threads_per_node)
EOC
}

# The nodes share this machine's cores (on a LAN each has its own machine's): more network
# threads than cores only preempt each other (bench/FINDINGS.md).
threads_per_node() {
  local share=$(($(nproc) / ${#nodes[@]}))
  echo $((share > 0 ? share : 1))
}

# One secret for the local cluster, made once; a LAN deployment distributes its own.
make_bus_key() {
  [ -s "$run/bus.key" ] && return
  mkdir -p "$run"
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/bus.key")
}

start_nodes() {
  make_bus_key
  for n in "${nodes[@]}"; do
    local dir=$run/node$n
    if [ -x "$dir/status.sh" ] && "$dir/status.sh" >/dev/null; then
      log "node $n already runs"
      continue
    fi
    mkdir -p "$dir"
    # Each node gets its own copy of the release, as each machine of a LAN would.
    cp -r release/chat release/asset release/view release/web release/chat.conf.sample \
      release/start.sh release/stop.sh release/status.sh "$dir/"
    node_conf "$n" > "$dir/chat.conf"
    "$dir/start.sh"
  done
  for n in "${nodes[@]}"; do wait_healthy "$n"; done
}

wait_healthy() {
  local url=http://127.0.0.1:$(admin_port "$1")/healthz
  for _ in $(seq 1 100); do
    curl -fsS "$url" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "node $1 did not become healthy; see $run/node$1/log.log"
  exit 1
}

start_nginx() {
  mkdir -p "$ngx/logs" "$ngx/tmp"
  local list running=0
  list=$(for n in "${nodes[@]}"; do echo "127.0.0.1:$(http_port "$n")"; done)
  nginx/render.sh --nodes <(echo "$list") --prefix "$ngx" --listen "$public" > "$ngx/nginx.conf.new"
  if [ -f "$ngx/nginx.pid" ] && kill -0 "$(cat "$ngx/nginx.pid")" 2>/dev/null; then running=1; fi
  # A reload ends the old workers' WebSockets (worker_shutdown_timeout): only for a new config.
  if [ "$running" = 1 ] && cmp -s "$ngx/nginx.conf.new" "$ngx/nginx.conf"; then
    rm -f "$ngx/nginx.conf.new"
    log "nginx already runs"
    return 0
  fi
  mv -f "$ngx/nginx.conf.new" "$ngx/nginx.conf"
  if [ "$running" = 1 ]; then
    nginx -p "$ngx" -c "$ngx/nginx.conf" -s reload
  else
    nginx -p "$ngx" -c "$ngx/nginx.conf"
  fi
}

api() {  # api PATH FORM-DATA -> body
  curl -sS -X POST "http://$public$1" --data "$2"
}

json_field() {  # json_field NAME < body
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const v=(j.data||{})[process.argv[1]];process.stdout.write(v===undefined?"":String(v))})' "$1"
}

demo_user() {  # demo_user MOBILE PASSWORD NICKNAME -> "id token"
  api /user/register "mobile=$1&passwd=$2&nickname=$3" >/dev/null
  local body
  body=$(api /user/login "mobile=$1&passwd=$2")
  echo "$(json_field id <<<"$body") $(json_field token <<<"$body")"
}

create_demo_data() {
  local alice alice_token bob bob_token
  read -r alice alice_token <<<"$(demo_user 13800000001 alice-demo Alice)"
  read -r bob bob_token <<<"$(demo_user 13800000002 bob-demo Bob)"
  if [ -z "$alice_token" ] || [ -z "$bob_token" ]; then
    log "the demo users cannot log in through nginx on $public; see $run/node*/log.log and $ngx/logs/"
    exit 1
  fi
  api /contact/addfriend "id=$alice&token=$alice_token&dstid=$bob" >/dev/null
  local groups
  groups=$(api /contact/loadcommunity "id=$alice&token=$alice_token")
  local group
  group=$(node -e 'const j=JSON.parse(process.argv[1]);const g=(j.data||[]).find(g=>g.name==="Demo group");process.stdout.write(g?String(g.id):"")' "$groups")
  if [ -z "$group" ]; then
    group=$(api /contact/createcommunity "id=$alice&token=$alice_token&name=Demo group" | json_field id)
  fi
  [ -n "$group" ] || { log "creating the demo group failed"; exit 1; }
  api /contact/joincommunity "id=$bob&token=$bob_token&dstid=$group" >/dev/null
  demo_group=$group
}

start() {
  scripts/deps.sh
  scripts/release.sh
  scripts/db.sh start
  mkdir -p "$run/upload"
  start_nodes
  start_nginx
  create_demo_data
  cat <<EOM

The chat cluster runs: nodes on 127.0.0.1:$(http_port 1) and :$(http_port 2), nginx on $public.
Demo logins (mobile / password): 13800000001 / alice-demo (Alice), 13800000002 / bob-demo (Bob);
both are friends and members of "Demo group" (id $demo_group).
Logs: $run/node*/log.log, $ngx/logs/. Stop everything with: scripts/run.sh stop

http://$public/chat
EOM
}

stop() {
  # Nodes first: their clients get 1001 (going away) and nginx then has no WebSocket to wait for.
  local failed=0
  for n in "${nodes[@]}"; do
    if [ -x "$run/node$n/stop.sh" ]; then "$run/node$n/stop.sh" || failed=1; fi
  done
  if [ -f "$ngx/nginx.pid" ] && kill -0 "$(cat "$ngx/nginx.pid")" 2>/dev/null; then
    local pid
    pid=$(cat "$ngx/nginx.pid")
    # Graceful; the config's worker_shutdown_timeout bounds it.
    kill -QUIT "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "nginx (pid $pid) did not quit within 15 s; fast shutdown"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if kill -0 "$pid" 2>/dev/null; then
      log "nginx (pid $pid) is still running"
      failed=1
    else
      log "nginx stopped"
    fi
  fi
  scripts/db.sh stop
  return "$failed"
}

status() {
  for n in "${nodes[@]}"; do
    printf 'node %s: ' "$n"
    if [ -x "$run/node$n/status.sh" ]; then "$run/node$n/status.sh" || true; else echo "not installed"; fi
  done
  if [ -f "$ngx/nginx.pid" ] && kill -0 "$(cat "$ngx/nginx.pid")" 2>/dev/null; then echo "nginx: running"; else echo "nginx: not running"; fi
  scripts/db.sh status || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/run.sh [start|stop|status]" >&2; exit 2 ;;
esac
