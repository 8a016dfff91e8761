#!/usr/bin/env bash
# Builds the chat node.
#   scripts/build.sh [Release|Debug|Thread]   Release -> build/chat, Debug (ASan+UBSan) ->
#   build-debug/chat, Thread (ThreadSanitizer, optimised, with the tests) -> build-tsan/chat
# Runs scripts/deps.sh first unless CHAT_SKIP_DEPS=1. CHAT_JOBS overrides the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

type=${1:-Release}
case "$type" in
  Release) dir=build; tests=OFF; flags=() ;;  # what release.sh ships; tests run on the Debug build
  Debug) dir=build-debug; tests=ON; flags=() ;;
  Thread) dir=build-tsan; tests=ON; type=RelWithDebInfo; flags=(-DCHAT_SANITIZE_THREAD=ON) ;;
  *)
    echo "usage: $0 [Release|Debug|Thread]" >&2
    exit 2
    ;;
esac

if [ "${CHAT_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi

jobs=${CHAT_JOBS:-$(nproc)}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DCHAT_WERROR=ON -DBUILD_TESTING="$tests" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
echo "build: $dir/chat ($type)"
