#!/usr/bin/env bash
# A private MariaDB for development and tests (never the system one).
#   scripts/db.sh start|stop|reset|dsn|status
# Environment: CHAT_DB_DIR (default var/db), CHAT_DB_PORT (3307), CHAT_DB_NAME (chat).
# CHAT_DB_BIND (127.0.0.1): the addresses mariadbd listens on, comma-separated. CHAT_DB_EXTRA_HOST
# (none): one more host pattern for the app user (e.g. 10.231.7.%), for nodes in a test LAN.
# CHAT_DB_ARGS (none): more mariadbd options, space-separated, each --name or --name=value
# (bench/run.sh passes BENCH_DB_ARGS here, to price a setting such as the log flush).
# The app user `chat` gets a random password, generated once and kept in $CHAT_DB_DIR/password.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

dir=${CHAT_DB_DIR:-var/db}
case "$dir" in /*) ;; *) dir="$root_dir/$dir" ;; esac
port=${CHAT_DB_PORT:-3307}
name=${CHAT_DB_NAME:-chat}
bind=${CHAT_DB_BIND:-127.0.0.1}
extra_host=${CHAT_DB_EXTRA_HOST:-}
read -ra extra_args <<<"${CHAT_DB_ARGS:-}"
socket="$dir/db.sock"
pid_file="$dir/db.pid"
err_log="$dir/db.err"
start_wait_s=30
stop_wait_s=30

die() {
  echo "db.sh: $*" >&2
  exit 1
}

[[ "$port" =~ ^[0-9]+$ ]] || die "CHAT_DB_PORT must be a number, got '$port'"
[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || die "CHAT_DB_NAME may hold only letters, digits and _, got '$name'"
[[ "$bind" =~ ^[0-9.]+(,[0-9.]+)*$ ]] || die "CHAT_DB_BIND must be IPv4 addresses separated by commas, got '$bind'"
[[ "$extra_host" =~ ^[0-9.%]*$ ]] || die "CHAT_DB_EXTRA_HOST must be an IPv4 host pattern like 10.231.7.%, got '$extra_host'"
for arg in "${extra_args[@]}"; do
  [[ "$arg" =~ ^--[A-Za-z0-9_-]+(=[A-Za-z0-9_./:-]*)?$ ]] || die "CHAT_DB_ARGS holds mariadbd options like --name=value, got '$arg'"
done
# A unix socket path is limited to 107 bytes.
[ ${#socket} -lt 100 ] || die "socket path too long: $socket (use a shorter CHAT_DB_DIR)"

running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file may name an unrelated process that reused the number.
  grep -q mariadbd "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

# Generated once per data dir; both files survive restarts (not resets).
secret() {
  local file="$dir/$1"
  if [ ! -s "$file" ]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file")
  fi
  chmod 600 "$file"
  cat "$file"
}

write_init_file() {
  local pw root_pw
  pw=$(secret password)
  root_pw=$(secret root-password)
  (
    umask 077
    cat >"$dir/init.sql" <<EOF
CREATE DATABASE IF NOT EXISTS \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'chat'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'chat'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'chat'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'chat'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`$name\`.* TO 'chat'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$name\`.* TO 'chat'@'localhost';
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';
ALTER USER IF EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$root_pw';
ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY '$root_pw';
EOF
    if [ -n "$extra_host" ]; then
      cat >>"$dir/init.sql" <<EOF
CREATE USER IF NOT EXISTS 'chat'@'$extra_host' IDENTIFIED BY '$pw';
ALTER USER 'chat'@'$extra_host' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`$name\`.* TO 'chat'@'$extra_host';
EOF
    fi
    echo "FLUSH PRIVILEGES;" >>"$dir/init.sql"
  )
}

bootstrap() {
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    echo "db.sh: creating a new data directory in $dir/data"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user=root \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed:
$(tail -n 20 "$dir/install.log")"
  fi
}

root_client() {
  mariadb --no-defaults --socket="$socket" --user=root --password="$(cat "$dir/root-password")" "$@"
}

wait_until_ready() {
  local pid=$1 deadline=$((SECONDS + start_wait_s))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      die "mariadbd exited during start-up. Tail of $err_log:
$(tail -n 20 "$err_log" 2>/dev/null)"
    fi
    if root_client -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "mariadbd did not accept connections within ${start_wait_s}s. Tail of $err_log:
$(tail -n 20 "$err_log" 2>/dev/null)"
}

apply_schema() {
  root_client "$name" <src/store/schema.sql || die "applying src/store/schema.sql failed"
}

start() {
  if pid=$(running_pid); then
    echo "db.sh: already running (pid $pid, port $port)"
    return 0
  fi
  command -v mariadbd >/dev/null || die "mariadbd not found (run scripts/deps.sh)"
  bootstrap
  write_init_file
  rm -f "$pid_file" "$socket"
  mariadbd --no-defaults --datadir="$dir/data" --socket="$socket" --port="$port" \
    --bind-address="$bind" --pid-file="$pid_file" --log-error="$err_log" --user=root \
    --skip-name-resolve --innodb-buffer-pool-size=64M --max-connections=500 \
    --init-file="$dir/init.sql" "${extra_args[@]}" </dev/null >/dev/null 2>&1 &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  wait_until_ready "$pid"
  apply_schema
  echo "db.sh: running (pid $pid, port $port, socket $socket, database $name)"
}

stop() {
  local pid deadline
  if ! pid=$(running_pid); then
    echo "db.sh: not running"
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid"
  deadline=$((SECONDS + stop_wait_s))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || die "mariadbd (pid $pid) did not exit within ${stop_wait_s}s"
    sleep 0.1
  done
  rm -f "$pid_file"
  echo "db.sh: stopped"
}

reset() {
  stop
  # Guard against a CHAT_DB_DIR that is not ours to delete.
  if [ -d "$dir" ] && [ ! -d "$dir/data/mysql" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir does not look like a db.sh data directory; not deleting it"
  fi
  rm -rf "$dir"
  start
}

dsn() {
  [ -s "$dir/password" ] || die "no password yet in $dir (run: scripts/db.sh start)"
  echo "mysql://chat:$(cat "$dir/password")@127.0.0.1:$port/$name"
}

status() {
  if pid=$(running_pid); then
    echo "running (pid $pid, port $port, dir $dir)"
  else
    echo "stopped (dir $dir)"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  reset) reset ;;
  dsn) dsn ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|reset|dsn|status   (env: CHAT_DB_DIR, CHAT_DB_PORT, CHAT_DB_NAME, CHAT_DB_BIND, CHAT_DB_EXTRA_HOST)" >&2
    exit 2
    ;;
esac
