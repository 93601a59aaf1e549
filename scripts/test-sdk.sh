#!/usr/bin/env bash
# The Python and TypeScript SDKs against the real keyhold-server (built by
# `cargo build --workspace --bins`; KEYHOLD_SERVER_BIN or $CARGO_TARGET_DIR/debug).
#   TypeScript: npm ci, tsc, node's test runner.
#   Python: the package built as a wheel, installed into a fresh venv with the test
#   requirements, mypy --strict over the package, then pytest (which also verifies the
#   TypeScript SDK's signatures, so TypeScript builds first).
# Usage: scripts/test-sdk.sh [python|typescript]   (default: both)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHICH="${1:-all}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export KEYHOLD_SERVER_BIN="${KEYHOLD_SERVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/keyhold-server}"
[ -x "$KEYHOLD_SERVER_BIN" ] || { echo "test-sdk: $KEYHOLD_SERVER_BIN is missing (cargo build --workspace --bins)" >&2; exit 1; }

TS="$ROOT/sdk/typescript"
"$ROOT/scripts/install-deps.sh" --no-apt --no-driver --no-py
(cd "$TS" && npm run --silent build)
if [ "$WHICH" != python ]; then
  (cd "$TS" && npm test)
fi

if [ "$WHICH" != typescript ]; then
  PY="$ROOT/sdk/python"
  python3 -m venv "$TMP/build"
  "$TMP/build/bin/pip" install -q --disable-pip-version-check build==1.2.2.post1
  "$TMP/build/bin/python" -m build --wheel --outdir "$TMP/dist" "$PY" >/dev/null
  python3 -m venv "$TMP/venv"
  "$TMP/venv/bin/pip" install -q --disable-pip-version-check "$TMP"/dist/keyhold-*.whl -r "$PY/requirements-test.txt"
  (cd "$PY" && "$TMP/venv/bin/mypy" --strict --no-incremental src/keyhold)
  (cd "$PY/tests" && "$TMP/venv/bin/python" -m pytest -q -p no:cacheprovider)
fi
