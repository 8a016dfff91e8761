#!/usr/bin/env bash
# Builds a Release binary and lays out a self-contained release in release/:
#   chat, asset/, view/, web/, nginx/ (template, node list, render.sh), schema.sql,
#   chat.conf.sample, start.sh, stop.sh, status.sh
# and packs it as release/chat-<version>.tar.gz. Nothing in it refers to this checkout:
# the folder works wherever it is moved.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^project(chat VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "release.sh: no version in CMakeLists.txt" >&2; exit 1; }

scripts/build.sh Release

out=release
# Keep a running node's state (config, logs, pid, uploads) when refreshing a release in place.
mkdir -p "$out"
rm -rf "$out/asset" "$out/view" "$out/web" "$out/nginx" "$out"/chat-*.tar.gz*
install -m 755 build/chat "$out/chat.new" && mv -f "$out/chat.new" "$out/chat"
cp -r asset view web "$out/"
mkdir -p "$out/nginx"
cp nginx/chat.conf.template nginx/nodes.txt nginx/render.sh "$out/nginx/"
cp src/store/schema.sql "$out/"
cp scripts/release/chat.conf.sample scripts/release/start.sh scripts/release/stop.sh scripts/release/status.sh "$out/"

# The tarball lists what it ships by name: a node's state beside it (chat.conf, log.log,
# chat.pid, upload/) or leftovers stay out, and there is no "./" entry that would reset the
# mode of the folder it is unpacked into.
shipped=(chat asset view web nginx schema.sql chat.conf.sample start.sh stop.sh status.sh)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
tar -C "$out" --transform "s,^,chat-$version/," --owner=0 --group=0 --numeric-owner \
  -czf "$tmp" "${shipped[@]}"
chmod 644 "$tmp"
mv "$tmp" "$out/chat-$version.tar.gz"
echo "release: $out/ and $out/chat-$version.tar.gz"
