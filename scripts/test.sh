#!/usr/bin/env bash
# The one test command: dependencies, the Debug (ASan+UBSan) build, the release folder, a clean
# private MariaDB, then every unit and integration test through ctest. Exits non-zero on any failure.
# Extra arguments go to ctest (e.g. scripts/test.sh -R integration_http_api).
# CHAT_TEST_SANITIZER=thread runs the same tests on a ThreadSanitizer build (build-tsan/) instead,
# failing on any data race it reports; it is not part of the default run, since it needs a
# build of its own (several minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
started=$SECONDS

export CHAT_DB_DIR=var/test-db
export CHAT_DB_PORT=${CHAT_TEST_DB_PORT:-3317}

summary() {
  local rc=$1 what=$2 hint=${3:-}
  if [ "$rc" -eq 0 ]; then
    echo "==== test.sh: PASSED ($what, $((SECONDS - started)) s)"
  else
    echo "==== test.sh: FAILED ($what, exit code $rc, $((SECONDS - started)) s)${hint}"
  fi
}

case "${CHAT_TEST_SANITIZER:-address}" in
  address) build_type=Debug; build_dir=build-debug ;;
  thread) build_type=Thread; build_dir=build-tsan ;;
  *)
    echo "test.sh: CHAT_TEST_SANITIZER is address (the default) or thread" >&2
    exit 2
    ;;
esac

bash scripts/deps.sh
if ! CHAT_SKIP_DEPS=1 bash scripts/build.sh "$build_type"; then
  summary 1 "$build_type build"
  exit 1
fi
# The deployment tests (deploy, run_script) run the release folder, as operators do: a
# Release build in build/ laid out in release/ (incremental after the first time).
if ! CHAT_SKIP_DEPS=1 bash scripts/release.sh; then
  summary 1 "release build"
  exit 1
fi
export CHAT_RELEASE_DIR="$root_dir/release"

# Stop the test database whatever happens from here on.
trap 'bash scripts/db.sh stop >/dev/null 2>&1 || true' EXIT
if ! bash scripts/db.sh reset; then
  summary 1 "starting the test database"
  exit 1
fi

export CHAT_TEST_MYSQL
CHAT_TEST_MYSQL=$(bash scripts/db.sh dsn)
export CHAT_BIN="$root_dir/$build_dir/chat"
# ASan: fail on leaks and errors; UBSan: print a stack and stop at the first report; TSan: a
# process that saw a race exits non-zero, so its test fails.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# Node logs of this run only (tests/integration/lib/cluster.mjs writes them).
rm -rf var/test-logs
rc=0
ctest --test-dir "$build_dir" --output-on-failure "$@" || rc=$?
summary "$rc" "ctest" "; chat node logs in var/test-logs/"
exit "$rc"
