#!/usr/bin/env bash
# Install what the desktop app's build and end-to-end tests need, skipping whatever is
# already there (so `make test` on a ready machine spends no time here):
#   - Debian packages: WebKitGTK dev files, WebKitWebDriver, Xvfb, ImageMagick, zbar, oathtool,
#     bsdutils (`script`: the CLI's terminal tests), postgresql (the tests start throwaway
#     clusters of their own from its binaries; its system service is not used), softhsm2
#     (a PKCS#11 token in a temp dir for the HSM master key tests) and opensc (its
#     pkcs11-tool checks, independently, that the key stays in the token), rpm and rpmlint
#     (scripts/dist.py builds RPMs with rpmbuild; make test-deploy inspects and lints them),
#     libayatana-appindicator3-1 (the tray icon, loaded at run time), and for the background-
#     mode e2e step a session bus, a notification daemon, a window manager and X tools
#     (dbus-daemon dunst openbox wmctrl xdotool)
#   - ui/ and sdk/typescript/ node_modules via `npm ci` (when missing or older than package-lock.json)
#   - tauri-driver 2.x via cargo (when not on PATH). Never the tauri CLI.
#   - .venv-tools/: a Python venv with the independent verifiers the tests use
#     (tests/requirements.txt: standardwebhooks, schemathesis, the deployment linters),
#     when missing or older than that file
# Usage: scripts/install-deps.sh [--no-apt] [--no-npm] [--no-driver] [--no-py]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DO_APT=1 DO_NPM=1 DO_DRIVER=1 DO_PY=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) DO_APT=0 ;;
    --no-npm) DO_NPM=0 ;;
    --no-driver) DO_DRIVER=0 ;;
    --no-py) DO_PY=0 ;;
    -h | --help)
      sed -n '2,10p' "$0"
      exit 0
      ;;
    *)
      echo "install-deps: unknown option $arg" >&2
      exit 2
      ;;
  esac
done

log() { echo "install-deps: $*" >&2; }

APT_PACKAGES=(
  build-essential pkg-config curl
  libwebkit2gtk-4.1-dev webkit2gtk-driver
  xvfb xauth imagemagick
  zbar-tools oathtool bsdutils
  postgresql
  softhsm2 opensc
  python3-venv
  prometheus
  desktop-file-utils
  rpm rpmlint
  libayatana-appindicator3-1
  dbus-daemon dunst openbox wmctrl xdotool
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root for: $* (not root, and sudo is not available)"
    return 1
  fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

if [ "$DO_APT" -eq 1 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    # An install can die half-way ("failed to read archive"); the same command again
    # completes it.
    for attempt in 1 2 3; do
      if as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
        break
      fi
      if [ "$attempt" -eq 3 ]; then
        log "apt-get install failed three times"
        exit 1
      fi
      log "apt-get install failed (attempt $attempt); retrying"
      as_root dpkg --configure -a || true
      sleep 2
    done
  fi
fi

if [ "$DO_NPM" -eq 1 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    log "npm is missing: install Node.js 20.19+ (the UI build needs it)"
    exit 1
  fi
  # The desktop UI, and the TypeScript SDK's compiler and Node types (sdk/typescript).
  for dir in ui sdk/typescript; do
    stamp="$ROOT/$dir/node_modules/.keyhold-lock-sha256"
    want="$(sha256sum "$ROOT/$dir/package-lock.json" | cut -d' ' -f1)"
    if [ ! -d "$ROOT/$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
      log "npm ci in $dir/"
      (cd "$ROOT/$dir" && npm ci --no-audit --no-fund --loglevel=error)
      echo "$want" >"$stamp"
    fi
  done
fi

if [ "$DO_DRIVER" -eq 1 ] && ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver 2.x"
  cargo install tauri-driver --version '^2' --locked
fi

if [ "$DO_PY" -eq 1 ]; then
  VENV="$ROOT/.venv-tools"
  req="$ROOT/tests/requirements.txt"
  stamp="$VENV/.keyhold-req-sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    log "python venv for the tests' verifiers in .venv-tools/"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
fi
