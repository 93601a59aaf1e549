#!/usr/bin/env bash
# Crash-safety proof at full length (run by hand; `make test` runs 2 rounds of the same test).
# Each round fires 1,000 concurrent secret writes at the real keyhold-server, SIGKILLs it
# mid-burst, checks the SQLite file (PRAGMA integrity_check, foreign_key_check), restarts it
# on the same data dir and master key and checks every version through the API.
#   bench/crash.sh [ROUNDS]     (default 20; results go in docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-20}"
cargo build -p keyhold-server --bins
filter='crash::sigkill_during_concurrent_writes_loses_no_acknowledged_write'
if cargo nextest --version >/dev/null 2>&1; then
    KEYHOLD_CRASH_ROUNDS="$rounds" cargo nextest run -p keyhold-e2e --test api --no-capture -E "test(=$filter)"
else
    KEYHOLD_CRASH_ROUNDS="$rounds" cargo test -p keyhold-e2e --test api -- --exact "$filter" --nocapture
fi
