#!/usr/bin/env bash
# Benchmark (run by hand, not a test): sign-in latency and GET /v1/me throughput on
# loopback against a release keyhold-server with a fresh SQLite data dir.
#   bench/login_and_me.sh [ROUNDS]      (default 5 rounds; figures are medians)
# Needs: a release build (`cargo build --release -p keyhold-server`), curl, wrk (installed
# from Debian when missing). Results go to stdout; copy them into docs/PERFORMANCE.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-5}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/keyhold-server"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p keyhold-server" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }

DATA="$(mktemp -d)"
LOG="$DATA/server.log"
"$BIN" --data-dir "$DATA" --listen 127.0.0.1:0 --login-failures-per-minute 100000 \
  --rate-limit-login 0 --rate-limit-anonymous 0 --rate-limit-session 0 >"$DATA/out" 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q '^listening on ' "$DATA/out" 2>/dev/null && break; sleep 0.1; done
URL="$(sed -n 's/^listening on //p' "$DATA/out")"
EMAIL="bench@example.com"
PASSWORD="violet anchor quietly juggles seven kites"
curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$URL/v1/auth/signup" >/dev/null
login() {
  curl -fsS -o "$DATA/login.json" -w '%{time_total}\n' -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$URL/v1/auth/login"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; print a[i]}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "server:  $URL (release build, SQLite WAL, synchronous=FULL)"
declare -a LOGIN_P50 LOGIN_P95 ME_RPS ME_P50 ME_P99
for r in $(seq 1 "$ROUNDS"); do
  samples="$(for _ in $(seq 1 40); do login; done)"
  LOGIN_P50+=("$(echo "$samples" | median)")
  LOGIN_P95+=("$(echo "$samples" | pct 95)")
  TOKEN="$(sed -n 's/.*"session_token":"\([^"]*\)".*/\1/p' "$DATA/login.json")"
  out="$(wrk -t2 -c32 -d5s --latency -H "Authorization: Bearer $TOKEN" "$URL/v1/me")"
  ME_RPS+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
  ME_P50+=("$(echo "$out" | awk '$1=="50%" {print $2}')")
  ME_P99+=("$(echo "$out" | awk '$1=="99%" {print $2}')")
  echo "round $r: login p50 ${LOGIN_P50[-1]}s p95 ${LOGIN_P95[-1]}s | /v1/me ${ME_RPS[-1]} req/s p50 ${ME_P50[-1]} p99 ${ME_P99[-1]}"
done
echo "median of $ROUNDS rounds:"
echo "  login latency p50: $(printf '%s\n' "${LOGIN_P50[@]}" | median)s  p95: $(printf '%s\n' "${LOGIN_P95[@]}" | median)s  (sequential, one argon2id verify each)"
echo "  GET /v1/me: $(printf '%s\n' "${ME_RPS[@]}" | median) req/s  (wrk -t2 -c32 -d5s)"
echo "RSS after: $(awk '/VmRSS/ {print $2" kB"}' /proc/$PID/status)"
