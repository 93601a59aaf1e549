#!/usr/bin/env bash
# `make run`: start the local vault on 127.0.0.1:8270 (data in ./.keyhold/) unless one is
# already answering there, then open the desktop app on it. Closing the app stops the
# server this script started. Without a display, the server stays in the foreground.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
ADDR="127.0.0.1:8270"
URL="http://$ADDR"

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

if curl -fsS "$URL/healthz" >/dev/null 2>&1; then
  echo "keyhold: using the server already running at $URL"
else
  mkdir -p .keyhold
  "$TARGET/debug/keyhold-server" --data-dir ./.keyhold --listen "$ADDR" &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "keyhold: the server failed to start" >&2; exit 1; }
    sleep 0.1
  done
  echo "keyhold: server running at $URL (data in ./.keyhold/, mail in ./.keyhold/outbox/)"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "keyhold: no display, so the desktop app is not opened; the server keeps running (Ctrl-C stops it)."
  if [ -n "$server_pid" ]; then wait "$server_pid"; fi
  exit 0
fi

KEYHOLD_URL="$URL" "$TARGET/debug/keyhold-desktop"
