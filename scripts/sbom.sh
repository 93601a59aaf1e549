#!/usr/bin/env bash
# CycloneDX SBOMs (JSON, spec 1.5) of the shipped binaries for a release, in dist/sbom/.
# cargo-cyclonedx writes each SBOM beside its crate's Cargo.toml; they are moved from there
# so the source tree stays clean. Run through `make sbom`.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${SBOM_TARGET:-x86_64-unknown-linux-gnu}"
out=dist/sbom
rm -rf "$out"
mkdir -p "$out"
cargo cyclonedx --format json --spec-version 1.5 --describe binaries \
    --target "$target" --no-build-deps -q
# Only shipped programs: the test crate (keyhold-e2e) has no binaries, so none for it.
find crates src-tauri tests -name '*.cdx.json' -not -path '*/node_modules/*' -print0 |
    while IFS= read -r -d '' f; do mv "$f" "$out/"; done
ls -1 "$out"
count=$(find "$out" -name '*.cdx.json' | wc -l)
[ "$count" -ge 3 ] || { echo "expected an SBOM for each of server, CLI and desktop; got $count" >&2; exit 1; }
